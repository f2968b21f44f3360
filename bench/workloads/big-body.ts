/**
 * One generateContent with a 20 MB JSON body (an inlineData part; the answer stays small) through one path, with the
 * relay's RSS before, at its peak during the request (sampled every 5 ms), and 2 s after the answer.
 */
import { request } from 'node:http';
import { RssSampler, rssMb } from '../lib/rss';
import { sleep } from '../lib/stats';
import type { Target } from '../lib/wrk';

export interface BigBodyResult {
  path: string;
  bodyMb: number;
  status: number;
  ms: number;
  beforeMb: number;
  peakMb: number;
  afterMb: number;
  growthMb: number;
}

export function bigBody(bytes: number): Buffer {
  const head = '{"contents":[{"role":"user","parts":[{"inlineData":{"mimeType":"application/octet-stream","data":"';
  const tail = '"}},{"text":"Describe the attachment in one line"}]}]}';
  const n = bytes - head.length - tail.length;
  const filler = Buffer.alloc(n - (n % 4), 'QUJD');
  return Buffer.concat([Buffer.from(head), filler, Buffer.from(tail)]);
}

export async function runBigBody(target: Target, pid: number, body: Buffer): Promise<BigBodyResult> {
  await sleep(1000);
  const beforeMb = rssMb(pid);
  const sampler = new RssSampler(pid, 5);
  const t0 = performance.now();
  const url = new URL(target.url);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/v1beta/models/gemini-2.5-flash:generateContent',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': body.length, 'x-goog-api-key': target.key },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  const ms = performance.now() - t0;
  await sleep(2000);
  const peakMb = sampler.stop();
  const afterMb = rssMb(pid);
  return {
    path: target.name,
    bodyMb: body.length / 1024 / 1024,
    status,
    ms,
    beforeMb,
    peakMb,
    afterMb,
    growthMb: peakMb - beforeMb,
  };
}
