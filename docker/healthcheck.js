#!/usr/bin/env node
// Container healthcheck: `node docker/healthcheck.js [app] [path]`.
// The app (gateway, admin, auth, key-pool) comes from argv, else GG_APP, else the command of PID 1
// (`node dist/out-tsc/apps/<app>/src/main.js`); the path defaults to /healthz (/readyz for readiness).
// Each app answers them on its own internal port. Exit 0 when the answer is 200, 1 otherwise.
'use strict';
const { readFileSync } = require('node:fs');

// Probes are on the internal port: METRICS_PORT for the gateway and admin (their public ports answer none),
// the HTTP port of auth and key-pool (internal already).
const PORTS = {
  gateway: ['METRICS_PORT', 8090],
  admin: ['METRICS_PORT', 8091],
  auth: ['AUTH_HTTP_PORT', 8082],
  'key-pool': ['KEY_POOL_HTTP_PORT', 8083],
};

function appFromPid1() {
  try {
    const cmd = readFileSync('/proc/1/cmdline', 'utf8').split('\0').join(' ');
    const m = /apps\/(gateway|admin|auth|key-pool)\//.exec(cmd);
    return m ? m[1] : undefined;
  } catch {
    return undefined;
  }
}

function target(argv, env) {
  const app = argv[0] || env.GG_APP || appFromPid1() || 'gateway';
  if (!PORTS[app]) throw new Error(`unknown app "${app}" (gateway, admin, auth or key-pool)`);
  const [name, fallback] = PORTS[app];
  const port = Number(env[name] || fallback);
  const path = '/' + String(argv[1] || 'healthz').replace(/^\/+/, '');
  return { app, url: `http://127.0.0.1:${port}${path}` };
}

module.exports = { target };

if (require.main === module) {
  let t;
  try {
    t = target(process.argv.slice(2), process.env);
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  fetch(t.url, { signal: AbortSignal.timeout(4000) })
    .then((r) => {
      if (r.status !== 200) process.stderr.write(`${t.app}: ${t.url} answered ${r.status}\n`);
      process.exit(r.status === 200 ? 0 : 1);
    })
    .catch((e) => {
      process.stderr.write(`${t.app}: ${t.url}: ${e.message}\n`);
      process.exit(1);
    });
}
