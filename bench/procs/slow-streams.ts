/**
 * The slow-stream client, in its own process: STREAMS concurrent SSE requests (one socket each, keep-alive off),
 * opened evenly over RAMP_MS, each answered by the mock with a chunk a second. For every chunk: relay delay =
 * receive time - the mock's `sentAt` (both `performance.timeOrigin + performance.now()`, same machine clock).
 * Prints `RESULT {json}` when every stream has ended (or DEADLINE_MS passed).
 */
import { request } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { percentile } from '../lib/stats';

const url = new URL(process.env.TARGET_URL ?? 'http://127.0.0.1:8080');
const key = process.env.KEY ?? '';
const streams = Number(process.env.STREAMS ?? 5000);
const rampMs = Number(process.env.RAMP_MS ?? 5000);
const deadlineMs = Number(process.env.DEADLINE_MS ?? 90_000);
const path = process.env.STREAM_PATH ?? '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse';
const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Stream slowly please' }] }] });
const SENT_AT = /"sentAt":\s*([\d.]+)/;

const delays: number[] = [];
/** receive times (epoch ms), parallel to delays */
const times: number[] = [];
let rampEndedAt = Infinity;
let rampStartedAt = 0;
let open = 0;
let peakOpen = 0;
let ended = 0;
let failed = 0;
let non200 = 0;
const errors = new Map<string, number>();
const loop = monitorEventLoopDelay({ resolution: 10 });
const now = (): number => performance.timeOrigin + performance.now();

function one(): void {
  open++;
  if (open > peakOpen) peakOpen = open;
  let done = false;
  const finish = (ok: boolean, why?: string): void => {
    if (done) return;
    done = true;
    open--;
    if (ok) ended++;
    else {
      failed++;
      if (why) errors.set(why, (errors.get(why) ?? 0) + 1);
    }
    check();
  };
  const req = request(
    {
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path,
      agent: false,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-goog-api-key': key,
        connection: 'close',
      },
    },
    (res) => {
      if (res.statusCode !== 200) non200++;
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (d: string) => {
        const at = now();
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\r\n\r\n')) !== -1) {
          const m = SENT_AT.exec(buf.slice(0, i));
          if (m) {
            delays.push(at - Number(m[1]));
            times.push(at);
          }
          buf = buf.slice(i + 4);
        }
      });
      res.on('end', () =>
        finish(res.statusCode === 200, res.statusCode === 200 ? undefined : `status ${res.statusCode}`),
      );
      res.on('error', (e: Error & { code?: string }) => finish(false, `mid-stream ${e.code ?? e.message}`));
      res.on('aborted', () => finish(false, 'mid-stream aborted'));
    },
  );
  req.on('error', (e: Error & { code?: string }) => finish(false, `before the answer ${e.code ?? e.message}`));
  req.end(body);
}

let started = 0;
const t0 = Date.now();
function check(): void {
  if (started === streams && open === 0) report();
}

let reported = false;
function report(): void {
  if (reported) return;
  reported = true;
  loop.disable();
  const sorted = Float64Array.from(delays).sort();
  // steady state: chunks received once every stream is open and has had a second to get its first chunk
  const steadyFrom = rampEndedAt + 1000;
  const steady = Float64Array.from(delays.filter((_, i) => times[i] >= steadyFrom)).sort();
  // p99 per second of the run, to see where the slow chunks are
  const perSecond: number[][] = [];
  for (let i = 0; i < times.length; i++)
    (perSecond[Math.floor((times[i] - rampStartedAt) / 1000)] ??= []).push(delays[i]);
  const timeline = perSecond.map((xs) => Math.round(percentile(Float64Array.from(xs ?? []).sort(), 99) * 10) / 10);
  const result = {
    streams,
    ended,
    failed,
    non200,
    errors: Object.fromEntries(errors),
    peakOpen,
    chunks: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    steadyChunks: steady.length,
    steadyP50: percentile(steady, 50),
    steadyP99: percentile(steady, 99),
    steadyMax: steady.length ? steady[steady.length - 1] : NaN,
    timelineP99: timeline,
    clientLoopP99Ms: loop.percentile(99) / 1e6,
    elapsedMs: Date.now() - t0,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

loop.enable();
process.stdout.write('READY {}\n');
// Open the streams evenly over the ramp, in small batches every 10 ms, so that their chunks are spread over each second.
rampStartedAt = now();
const batches = Math.max(1, Math.floor(rampMs / 10));
let batch = 0;
const ramp = setInterval(() => {
  batch++;
  const target = Math.min(streams, Math.round((batch / batches) * streams));
  while (started < target) {
    started++;
    one();
  }
  if (started >= streams) {
    clearInterval(ramp);
    rampEndedAt = now();
  }
}, 10);
setTimeout(report, deadlineMs).unref();
