/** Summarises a V8 .cpuprofile: self time per function, time per area (package / gateway source / runtime). */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) return url.slice(nm + 'node_modules/'.length);
  const apps = url.search(/\/(apps|libs)\//);
  if (apps !== -1) return url.slice(apps + 1);
  return url.replace(/^file:\/\//, '');
}

function area(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native / builtins)';
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/').slice(0, 2).join('/')}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `pkg: ${rest[0].startsWith('@') ? rest.slice(0, 2).join('/') : rest[0]}`;
  }
  const m = /\/(apps\/[^/]+|libs\/[^/]+)\//.exec(url);
  return m ? `src: ${m[1]}` : url;
}

export function summarize(p: CpuProfile, top = 25): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++)
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idleIds = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const idle = [...idleIds].reduce((a, id) => a + (selfUs.get(id) ?? 0), 0);
  const busy = total - idle;

  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, us] of selfUs) {
    if (idleIds.has(id)) continue;
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const a = area(f.url, f.functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  // inclusive time of the gateway's own functions (each counted once per stack)
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!/\/apps\/gateway\//.test(f.url)) continue;
      const key = `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + us);
    }
  }
  const pct = (us: number): string => `${((100 * us) / busy).toFixed(1)}%`;
  const lines: string[] = [];
  lines.push(
    `Profiled ${(total / 1e6).toFixed(1)} s: busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s; percentages of busy time.`,
    '',
  );
  lines.push('### Self time by area', '', '| area | self | share |', '| --- | ---: | ---: |');
  for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 15))
    lines.push(`| ${a} | ${(us / 1000).toFixed(0)} ms | ${pct(us)} |`);
  lines.push('', `### Top ${top} functions by self time`, '', '| function | self | share |', '| --- | ---: | ---: |');
  for (const [k, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top))
    lines.push(`| \`${k}\` | ${(us / 1000).toFixed(0)} ms | ${pct(us)} |`);
  lines.push(
    '',
    '### Gateway functions by inclusive time',
    '',
    '| function | inclusive | share |',
    '| --- | ---: | ---: |',
  );
  for (const [k, us] of [...incl].sort((x, y) => y[1] - x[1]).slice(0, 15))
    lines.push(`| \`${k}\` | ${(us / 1000).toFixed(0)} ms | ${pct(us)} |`);
  return lines.join('\n') + '\n';
}
