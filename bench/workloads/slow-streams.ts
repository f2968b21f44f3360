/** Thousands of concurrent slow SSE streams through one path, with the relay delay per chunk and the relay's RSS. */
import { startChild } from '../lib/child';
import { RssSampler } from '../lib/rss';
import type { Target } from '../lib/wrk';

export interface SlowResult {
  path: string;
  streams: number;
  ended: number;
  failed: number;
  errors: Record<string, number>;
  /** the most streams open at the same moment (client side) */
  peakOpen: number;
  chunks: number;
  expectedChunks: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  steadyChunks: number;
  steadyP50: number;
  steadyP99: number;
  steadyMax: number;
  /** p99 of the chunks received in each second of the run */
  timelineP99: number[];
  clientLoopP99Ms: number;
  elapsedMs: number;
  rssBeforeMb: number;
  rssPeakMb: number;
}

export async function runSlowStreams(
  target: Target,
  relayPid: number | null,
  o: { streams: number; chunks: number; intervalMs: number; rampMs: number; path?: string },
): Promise<SlowResult> {
  const sampler = relayPid ? new RssSampler(relayPid, 200) : null;
  const rssBeforeMb = sampler?.last ?? NaN;
  const client = await startChild<Record<string, never>>(`slow-streams(${target.name})`, 'procs/slow-streams.js', {
    TARGET_URL: target.url,
    KEY: target.key,
    STREAMS: String(o.streams),
    RAMP_MS: String(o.rampMs),
    ...(o.path ? { STREAM_PATH: o.path } : {}),
    DEADLINE_MS: String(o.rampMs + o.chunks * o.intervalMs + 30_000),
  });
  const result = await new Promise<Omit<SlowResult, 'path' | 'expectedChunks' | 'rssBeforeMb' | 'rssPeakMb'>>(
    (resolve, reject) => {
      let out = '';
      client.child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^RESULT (.*)$/m.exec(out);
        if (m) resolve(JSON.parse(m[1]));
      });
      client.child.once('exit', (code) => {
        const m = /^RESULT (.*)$/m.exec(out);
        if (m) resolve(JSON.parse(m[1]));
        else reject(new Error(`slow-stream client exited with ${code}: ${out.slice(-500)}`));
      });
    },
  );
  await client.stop();
  return {
    path: target.name,
    ...result,
    expectedChunks: o.streams * o.chunks,
    rssBeforeMb,
    rssPeakMb: sampler ? sampler.stop() : NaN,
  };
}
