import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = resolve(__dirname, '../..');
const load = createRequire(__filename);

/** A rendered Kubernetes object, loosely typed: the tests walk it like a user reading `kubectl kustomize`. */
/* eslint-disable @typescript-eslint/no-explicit-any */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: any };
  [k: string]: any;
};
/* eslint-enable @typescript-eslint/no-explicit-any */

/** `kubectl` with kustomize v4 or later (kubectl 1.21+): the one in PATH, or KUBECTL. */
export function kubectl(): string {
  const bin = process.env.KUBECTL ?? 'kubectl';
  const v = spawnSync(bin, ['version', '--client'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) {
    throw new Error(`"${bin}" is not runnable: install kubectl 1.21 or later (it renders the kustomizations offline)`);
  }
  const m = /Kustomize Version: v(\d+)/.exec(v.stdout);
  if (!m || Number(m[1]) < 4) throw new Error(`"${bin}" bundles kustomize older than v4: use kubectl 1.21 or later`);
  return bin;
}

/**
 * Render k8s/ as `kubectl apply -k k8s/` would, from a copy whose secrets files are filled with fresh values
 * (the repository ships only their `.example`). `extra` adds files to the copy (e.g. a test overlay), and
 * `dir` picks what to render inside it.
 */
export function renderK8s(
  dir = '.',
  extra: Record<string, string> = {},
): { objects: K8sObject[]; secrets: Record<string, string> } {
  const copy = mkdtempSync(join(tmpdir(), 'gg-k8s-'));
  try {
    cpSync(join(ROOT, 'k8s'), copy, { recursive: true });
    const secrets = {
      JWT_SECRET: randomBytes(32).toString('hex'),
      KEY_HASH_SECRET: randomBytes(32).toString('hex'),
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      TRANSPORT_KEY: randomBytes(32).toString('hex'),
      REDIS_PASSWORD: randomBytes(24).toString('hex'),
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: randomBytes(12).toString('hex'),
    };
    const env = (keys: string[]): string => keys.map((k) => `${k}=${secrets[k as keyof typeof secrets]}\n`).join('');
    writeFileSync(
      join(copy, 'overlays/example/secrets.env'),
      env(['JWT_SECRET', 'KEY_HASH_SECRET', 'ENCRYPTION_KEY', 'TRANSPORT_KEY', 'REDIS_PASSWORD']),
    );
    writeFileSync(join(copy, 'overlays/example/admin.env'), env(['ADMIN_USERNAME', 'ADMIN_PASSWORD']));
    for (const [path, text] of Object.entries(extra)) {
      mkdirSync(dirname(join(copy, path)), { recursive: true });
      writeFileSync(join(copy, path), text);
    }
    const r = spawnSync(kubectl(), ['kustomize', join(copy, dir)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
    const docs = parseAllDocuments(r.stdout);
    const objects = (Array.isArray(docs) ? docs : [docs]).map((d) => {
      if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0].message}`);
      return d.toJS() as K8sObject;
    });
    return { objects: objects.filter(Boolean), secrets };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** Validate an object against the Kubernetes OpenAPI schemas bundled in `kubernetes-models` (offline). */
export function validateK8s(obj: K8sObject): void {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const path = `kubernetes-models/${group ? `${group}/` : ''}${version}/${obj.kind}`;
  let Model: new (data: unknown) => { validate(): void };
  try {
    Model = (load(path) as Record<string, typeof Model>)[obj.kind];
  } catch (e) {
    throw new Error(
      `no schema for ${obj.apiVersion} ${obj.kind} (is the devDependency kubernetes-models installed?): ${(e as Error).message}`,
    );
  }
  if (!Model) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
  new Model(obj.kind === 'Secret' ? unwrapBase64(obj) : obj).validate();
}

/** kustomize wraps long base64 values of Secrets over lines; the API server's decoder skips the line breaks. */
function unwrapBase64(secret: K8sObject): K8sObject {
  const data = Object.fromEntries(
    Object.entries((secret.data ?? {}) as Record<string, string>).map(([k, v]) => [k, v.replace(/\s+/g, '')]),
  );
  return { ...secret, data };
}
