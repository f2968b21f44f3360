#!/usr/bin/env node
// Bring the databases of auth and key-pool to this release's schema without starting the apps, and say what was
// done: SQLite runs its TypeORM migrations (a database of the first release, made by `synchronize`, is adopted
// first), Redis its layout upgrade steps under a lock. auth and key-pool do exactly this when they start; the
// command is for upgrading ahead of a rollout, or for checking where a database stands (a second run does nothing).
//
//   node scripts/db-migrate.mjs [--service auth] [--service key-pool] [--dist dist/out-tsc]
//
// Configuration comes from the environment, as the apps read it (DATABASE_TYPE, DATA_DIR, REDIS_URL,
// REDIS_NAMESPACE, …). Runs the built libraries: build first (`node scripts/build.mjs --apps-only`); GG_DIST_DIR or
// --dist points at another build. Exit code 0: the databases are current; 1: a migration failed or was refused.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    service: { type: 'string', multiple: true },
    dist: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.log('usage: node scripts/db-migrate.mjs [--service auth|key-pool]… [--dist DIR]');
  process.exit(0);
}

const SERVICES = ['auth', 'key-pool'];
const services = opts.service ?? SERVICES;
for (const s of services) {
  if (!SERVICES.includes(s)) {
    console.error(`db-migrate: unknown service "${s}" (one of: ${SERVICES.join(', ')})`);
    process.exit(2);
  }
}

const dist = resolve(root, opts.dist ?? process.env.GG_DIST_DIR ?? 'dist/out-tsc');
const dbEntry = join(dist, 'libs/db/src/index.js');
const configEntry = join(dist, 'libs/config/src/index.js');
for (const f of [dbEntry, configEntry]) {
  if (!existsSync(f)) {
    console.error(`db-migrate: ${f} is missing: build first (node scripts/build.mjs --apps-only)`);
    process.exit(2);
  }
}
const require = createRequire(import.meta.url);
const { createDbManager } = require(dbEntry);
const { loadConfig } = require(configEntry);

let config;
try {
  config = loadConfig(process.env);
} catch (e) {
  console.error(`db-migrate: ${e.message}`);
  process.exit(2);
}

let failed = false;
for (const service of services) {
  const where =
    config.databaseType === 'sqlite'
      ? join(config.dataDir, `${service}.sqlite`)
      : `${config.redisNamespace}:db:${service}:*`;
  try {
    const db = await createDbManager({
      type: config.databaseType,
      service,
      dataDir: config.dataDir,
      redisUrl: config.redisUrl,
      redisNamespace: config.redisNamespace,
    });
    const m = db.migration;
    await db.close();
    const did = [
      m.adopted ? 'adopted a first-release database' : null,
      m.applied.length ? `ran ${m.applied.join(', ')}` : null,
    ].filter(Boolean);
    console.log(
      `${service} (${config.databaseType}, ${where}): version ${m.version}; ${did.length ? did.join('; ') : 'already current'}`,
    );
  } catch (e) {
    failed = true;
    console.error(`${service} (${config.databaseType}, ${where}): failed: ${e.message}`);
  }
}
process.exit(failed ? 1 : 0);
