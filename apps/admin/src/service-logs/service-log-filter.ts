import type { ServiceLogLine } from '@gg/contracts';
import { LOG_LEVELS } from './service-logs.dto';

export interface ServiceLogFilter {
  level?: ServiceLogLine['level'];
  app?: string;
  /** only the lines written for this request (their `requestId` field) */
  requestId?: string;
}

/** A stream entry (`[id, [field, value, …]]`) as a ServiceLogLine, or null when it is not one. */
export function toServiceLogLine(id: string, flat: string[]): ServiceLogLine | null {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]] = flat[i + 1];
  if (!f.app && !f.msg) return null;
  let fields: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(f.line ?? '{}') as Record<string, unknown>;
    const { level: _l, time: _t, msg: _m, app: _a, ...rest } = parsed;
    fields = rest;
  } catch {
    fields = {};
  }
  const level = (LOG_LEVELS as readonly string[]).includes(f.level) ? (f.level as ServiceLogLine['level']) : 'info';
  return { id, app: f.app ?? '', level, time: f.time ?? '', msg: f.msg ?? '', fields };
}

export function matches(filter: ServiceLogFilter): (line: ServiceLogLine) => boolean {
  const min = filter.level ? LOG_LEVELS.indexOf(filter.level) : 0;
  return (line) =>
    LOG_LEVELS.indexOf(line.level) >= min &&
    (!filter.app || line.app === filter.app) &&
    (!filter.requestId || line.fields.requestId === filter.requestId);
}
