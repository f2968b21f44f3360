/** The queue of scripted behaviours: first matching rule wins, each answers `times` requests (default 1). */
import type { MockMethod, ScriptRule } from './types';

interface Entry {
  rule: ScriptRule;
  left: number;
}

/** Behaviours that only make sense on a stream. */
const STREAM_ONLY = new Set(['stream', 'errorMidStream']);
/** Behaviours that only make sense on a Live session. */
const LIVE_ONLY = new Set(['liveClose', 'goAway']);

export class Rules {
  private entries: Entry[] = [];

  add(rule: ScriptRule): void {
    const times = rule.times ?? 1;
    if (!(times > 0)) return;
    const model = rule.model?.startsWith('models/') ? rule.model.slice('models/'.length) : rule.model;
    this.entries.push({ rule: { ...rule, model }, left: times });
  }

  clear(): void {
    this.entries = [];
  }

  /** Take the first rule matching this request (consuming one of its `times`). */
  take(key: string, model: string, method: MockMethod, body?: Buffer): ScriptRule | undefined {
    if (this.entries.length === 0) return undefined;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      const r = e.rule;
      if (r.key !== undefined && r.key !== key) continue;
      if (r.model !== undefined && r.model !== model && method !== 'bidiGenerateContent') continue;
      if (r.method !== undefined && r.method !== method && !method.startsWith(r.method + '.')) continue;
      if (STREAM_ONLY.has(r.type) && method !== 'streamGenerateContent') continue;
      if (LIVE_ONLY.has(r.type) && method !== 'bidiGenerateContent') continue;
      if (r.bodyContains !== undefined && !(body && body.includes(r.bodyContains))) continue;
      // a Live session is matched only by rules that name it: REST scripts never reach a WebSocket
      if (method === 'bidiGenerateContent' && r.method !== method) continue;
      if (--e.left <= 0) this.entries.splice(i, 1);
      return r;
    }
    return undefined;
  }
}
