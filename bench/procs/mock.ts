/**
 * The scripted Gemini upstream in its own process (so it never shares an event loop with a load generator).
 * `record: false`: a long run does not grow its memory. Scripts, by model:
 * - gemini-2.5-flash streams: BENCH_SSE_CHUNKS chunks back to back (the "SSE, 5 chunks" workload)
 * - gemini-2.5-pro streams: BENCH_SLOW_CHUNKS chunks, one every BENCH_SLOW_INTERVAL_MS (the slow-stream workload)
 * - gemini-3-flash-preview streams: BENCH_BASELINE_CHUNKS chunks at the same pace (the shorter direct baseline)
 */
import { startMockGemini } from '@gg/testing';
import { announce } from '../lib/child';

async function main(): Promise<void> {
  const mock = await startMockGemini({ record: false });
  const sseChunks = Number(process.env.BENCH_SSE_CHUNKS ?? 5);
  const slowChunks = Number(process.env.BENCH_SLOW_CHUNKS ?? 30);
  const baselineChunks = Number(process.env.BENCH_BASELINE_CHUNKS ?? 10);
  const slowInterval = Number(process.env.BENCH_SLOW_INTERVAL_MS ?? 1000);
  const texts = (n: number): string[] => Array.from({ length: n }, (_, i) => ` word${i + 1} of the streamed answer`);
  mock.script({
    type: 'stream',
    model: 'gemini-2.5-flash',
    method: 'streamGenerateContent',
    chunks: texts(sseChunks),
    intervalMs: 0,
    times: Infinity,
  });
  mock.script({
    type: 'stream',
    model: 'gemini-2.5-pro',
    method: 'streamGenerateContent',
    chunks: texts(slowChunks),
    intervalMs: slowInterval,
    times: Infinity,
  });
  mock.script({
    type: 'stream',
    model: 'gemini-3-flash-preview',
    method: 'streamGenerateContent',
    chunks: texts(baselineChunks),
    intervalMs: slowInterval,
    times: Infinity,
  });
  const stop = (): void => void mock.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  announce({ url: mock.url, pid: process.pid });
}

void main();
