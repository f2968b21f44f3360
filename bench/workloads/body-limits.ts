/**
 * Bounded memory (issue 11 §4): four concurrent 100 MB bodies on each route — native generateContent,
 * /v1/chat/completions, a raw upload — while a normal small generateContent keeps being sent every 50 ms. The
 * gateway's RSS before, at its peak (sampled every 5 ms), and some seconds after; the statuses the big bodies got
 * and how the normal requests fared meanwhile.
 */
import { Agent, request } from 'node:http';
import { RssSampler, rssMb } from '../lib/rss';
import { sleep } from '../lib/stats';
import type { Target } from '../lib/wrk';

export interface BodyLimitsResult {
  route: string;
  /** 'defaults' or the limits the gateway ran with */
  config: string;
  concurrent: number;
  bodyMb: number;
  statuses: Record<string, number>;
  ms: number;
  beforeMb: number;
  peakMb: number;
  afterMb: number;
  /** seconds after the last big answer until RSS was within 64 MB of before (NaN: not within the wait) */
  settleS: number;
  normalOk: number;
  normalOther: number;
  normalP99Ms: number;
}

const GENERATE = '/v1beta/models/gemini-2.5-flash:generateContent';

interface Route {
  route: string;
  path: string;
  headers: Record<string, string>;
  body: (bytes: number) => Buffer;
}

export const ROUTES: Route[] = [
  {
    route: 'generateContent',
    path: GENERATE,
    headers: { 'content-type': 'application/json' },
    body: (n) =>
      jsonBody(
        '{"contents":[{"role":"user","parts":[{"inlineData":{"mimeType":"application/octet-stream","data":"',
        '"}}]}]}',
        n,
        'QUJD',
      ),
  },
  {
    route: 'chat.completions',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    body: (n) => jsonBody('{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"', '"}]}', n, 'abcd'),
  },
  {
    route: 'upload',
    path: '/upload/v1beta/files',
    headers: { 'content-type': 'application/octet-stream', 'x-goog-upload-protocol': 'raw' },
    body: (n) => Buffer.alloc(n, 'z'),
  },
];

function jsonBody(head: string, tail: string, bytes: number, fill: string): Buffer {
  const n = bytes - head.length - tail.length;
  return Buffer.concat([Buffer.from(head), Buffer.alloc(n - (n % 4), fill), Buffer.from(tail)]);
}

function send(target: Target, path: string, headers: Record<string, string>, body: Buffer): Promise<number> {
  const url = new URL(target.url);
  // keep-alive, as SDKs send: a refused body is then read and dropped by the gateway and the client sees the 413
  // (with `Connection: close` the gateway closes after answering and a client still sending sees a reset instead)
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise<number>((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path,
        agent,
        headers: { ...headers, 'content-length': body.length, 'x-goog-api-key': target.key },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    // a refused body may be cut off mid-send: that is an answer too (the status already came, or 0)
    req.on('error', () => resolve(0));
    req.end(body);
  }).finally(() => agent.destroy());
}

export async function runBodyLimits(
  target: Target,
  pid: number,
  route: Route,
  body: Buffer,
  config: string,
  concurrent = 4,
): Promise<BodyLimitsResult> {
  await sleep(1500);
  const beforeMb = rssMb(pid);
  const sampler = new RssSampler(pid, 5);
  // normal traffic meanwhile
  let stop = false;
  const normal = { ok: 0, other: 0, ms: [] as number[] };
  const small = Buffer.from('{"contents":[{"parts":[{"text":"still served?"}]}]}');
  const loop = (async () => {
    while (!stop) {
      const t = performance.now();
      const s = await send(target, GENERATE, { 'content-type': 'application/json' }, small);
      normal.ms.push(performance.now() - t);
      if (s === 200) normal.ok++;
      else normal.other++;
      await sleep(50);
    }
  })();
  const t0 = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: concurrent }, () => send(target, route.path, route.headers, body)),
  );
  const ms = performance.now() - t0;
  // settle: RSS back within 64 MB of before (GC and the allocator returning memory), up to 10 s
  let settleS = NaN;
  const settleStart = performance.now();
  while (performance.now() - settleStart < 10_000) {
    if (sampler.sample() - beforeMb < 64) {
      settleS = (performance.now() - settleStart) / 1000;
      break;
    }
    await sleep(100);
  }
  await sleep(Math.max(0, 3000 - (performance.now() - settleStart)));
  stop = true;
  await loop;
  const peakMb = sampler.stop();
  const afterMb = rssMb(pid);
  const counts: Record<string, number> = {};
  for (const s of statuses) counts[String(s)] = (counts[String(s)] ?? 0) + 1;
  const sorted = [...normal.ms].sort((a, b) => a - b);
  return {
    route: route.route,
    config,
    concurrent,
    bodyMb: body.length / 1024 / 1024,
    statuses: counts,
    ms,
    beforeMb,
    peakMb,
    afterMb,
    settleS,
    normalOk: normal.ok,
    normalOther: normal.other,
    normalP99Ms: sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] : NaN,
  };
}
