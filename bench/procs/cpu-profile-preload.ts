/**
 * Preloaded into the gateway (`NODE_OPTIONS=--require …`) by `npm run bench -- --profile`: starts the V8 CPU profiler
 * when SIGWINCH arrives and, at the next SIGWINCH, writes the profile to BENCH_CPU_PROFILE. (`node --cpu-prof` writes
 * only at a normal exit, and the gateway ends by re-raising SIGTERM, so the profile would be lost. SIGWINCH because
 * Nest's shutdown hooks take SIGUSR2 and Node's inspector SIGUSR1.)
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const out = process.env.BENCH_CPU_PROFILE;
if (out) {
  const session = new Session();
  session.connect();
  let running = false;
  session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 250 }));
  process.on('SIGWINCH', () => {
    if (!running) {
      running = true;
      session.post('Profiler.start');
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, result) => {
      writeFileSync(out, JSON.stringify(err ? { error: String(err) } : result.profile));
    });
  });
}
