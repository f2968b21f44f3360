import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, renderK8s, validateK8s, type K8sObject } from './k8s-render';

/** What `kubectl apply -k k8s/` would install, checked offline: it renders, validates, and is operable. */
describe('k8s/ (kustomize base + example overlay)', () => {
  const { objects, secrets } = renderK8s();
  const all = (kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);
  const one = (kind: string, name: string): K8sObject => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    if (!o) throw new Error(`no ${kind} ${name} in the rendered output`);
    return o;
  };
  const podSpec = (o: K8sObject) => o.spec.template.spec;
  const config = () => all('ConfigMap').find((c) => c.metadata.name.startsWith('gemini-gateway-config'))!;
  const apps = ['auth', 'key-pool', 'gateway', 'admin'];

  it('renders every part of the install, each object valid against the Kubernetes schemas', () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`).sort();
    expect(kinds).toEqual(
      expect.arrayContaining([
        'Namespace/gemini-gateway',
        'StatefulSet/redis',
        'Deployment/auth',
        'Deployment/key-pool',
        'Deployment/gateway',
        'Deployment/admin',
        'PodDisruptionBudget/gateway',
        'HorizontalPodAutoscaler/gateway',
        'Ingress/gemini-gateway',
        'ConfigMap/gemini-gateway-config',
        'Secret/gemini-gateway-secrets',
        'Secret/gemini-gateway-admin',
      ]),
    );
    for (const o of objects) {
      expect(() => validateK8s(o)).not.toThrow();
      if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe('gemini-gateway');
    }
  });

  it('the schema check catches a broken object (the check can fail)', () => {
    const broken = structuredClone(one('Deployment', 'gateway'));
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    expect(() => validateK8s(broken)).toThrow(/containerPort/);
  });

  it('pins every image to a version, never latest', () => {
    for (const o of [...all('Deployment'), ...all('StatefulSet')]) {
      for (const c of podSpec(o).containers)
        expect(c.image).toMatch(/^[^:@\s]+(:(?!latest$)[\w.-]+|@sha256:[0-9a-f]{64})$/);
    }
  });

  it('runs auth and key-pool as one replica each, Recreate; the gateway with several replicas, a PDB and an HPA on CPU', () => {
    for (const name of ['auth', 'key-pool']) {
      const d = one('Deployment', name);
      expect(d.spec.replicas).toBe(1);
      expect(d.spec.strategy.type).toBe('Recreate');
    }
    const gw = one('Deployment', 'gateway');
    expect(gw.spec.replicas).toBeGreaterThan(1);
    const pdb = one('PodDisruptionBudget', 'gateway');
    expect(pdb.spec.selector.matchLabels).toEqual(gw.spec.selector.matchLabels);
    const hpa = one('HorizontalPodAutoscaler', 'gateway');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'gateway' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
  });

  it('gives every app probes on /readyz and /healthz of its internal port, and requests and limits', () => {
    const ports: Record<string, number> = { gateway: 8080, admin: 8081, auth: 8082, 'key-pool': 8083 };
    // gateway and admin: METRICS_PORT (their defaults), a port their Service does not expose
    const probePorts: Record<string, number> = { gateway: 8090, admin: 8091, auth: 8082, 'key-pool': 8083 };
    for (const name of apps) {
      const c = podSpec(one('Deployment', name)).containers[0];
      expect(c.command).toEqual(['node', `dist/out-tsc/apps/${name}/src/main.js`]);
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      const named = c.ports.find((p: { name: string }) => p.name === c.readinessProbe.httpGet.port);
      expect(named.containerPort).toBe(probePorts[name]);
      expect(c.livenessProbe.httpGet.port).toBe(c.readinessProbe.httpGet.port);
      const annotations = one('Deployment', name).spec.template.metadata.annotations;
      expect(annotations['prometheus.io/port']).toBe(String(probePorts[name]));
      expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
      expect(c.resources.limits.memory).toBeDefined();
      expect(podSpec(one('Deployment', name)).securityContext.runAsNonRoot).toBe(true);
      const svc = one('Service', name);
      expect(svc.spec.ports[0].port).toBe(ports[name]);
      if (name === 'gateway' || name === 'admin') {
        const exposed = svc.spec.ports.map((p: { targetPort: string | number }) => p.targetPort);
        expect(exposed).not.toContain('metrics');
        expect(exposed).not.toContain(probePorts[name]);
      }
    }
    // the apps' port variables agree with the containers
    expect(config().data).toMatchObject({
      GATEWAY_PORT: '8080',
      ADMIN_PORT: '8081',
      AUTH_HTTP_PORT: '8082',
      KEY_POOL_HTTP_PORT: '8083',
    });
  });

  it('lets a stream in flight finish on shutdown: preStop, and a grace period longer than the request deadline', () => {
    const gw = podSpec(one('Deployment', 'gateway'));
    const deadline = Number(config().data.REQUEST_TIMEOUT_SECONDS);
    expect(deadline).toBeGreaterThan(0);
    const preStopSeconds = Number(gw.containers[0].lifecycle.preStop.exec.command.at(-1));
    expect(gw.terminationGracePeriodSeconds).toBeGreaterThan(deadline + preStopSeconds);
    for (const name of apps) expect(podSpec(one('Deployment', name)).containers[0].lifecycle?.preStop).toBeDefined();
  });

  it('keeps secrets in Secrets: every reference resolves, nothing secret in the ConfigMap', () => {
    const secretNames = new Set(all('Secret').map((s) => s.metadata.name));
    const configNames = new Set(all('ConfigMap').map((s) => s.metadata.name));
    const needed = ['JWT_SECRET', 'KEY_HASH_SECRET', 'ENCRYPTION_KEY', 'TRANSPORT_KEY', 'REDIS_PASSWORD'];
    const stored = all('Secret').flatMap((s) => Object.keys(s.data ?? {}));
    expect(stored).toEqual(expect.arrayContaining([...needed, 'ADMIN_USERNAME', 'ADMIN_PASSWORD']));
    for (const o of [...all('Deployment'), ...all('StatefulSet')]) {
      for (const c of podSpec(o).containers) {
        for (const f of c.envFrom ?? []) {
          if (f.secretRef) expect(secretNames).toContain(f.secretRef.name);
          if (f.configMapRef) expect(configNames).toContain(f.configMapRef.name);
        }
        for (const e of c.env ?? []) {
          if (e.valueFrom?.secretKeyRef) expect(secretNames).toContain(e.valueFrom.secretKeyRef.name);
          if (e.value) for (const v of Object.values(secrets)) if (v.length > 8) expect(e.value).not.toContain(v);
        }
      }
    }
    // every app gets the three secrets production requires; only auth gets the first admin
    for (const name of apps) {
      const c = podSpec(one('Deployment', name)).containers[0];
      const fromSecret = c.envFrom.filter((f: { secretRef?: unknown }) => f.secretRef);
      expect(fromSecret).toHaveLength(1);
      const admin = (c.env ?? []).some((e: { name: string }) => e.name === 'ADMIN_PASSWORD');
      expect(admin).toBe(name === 'auth');
      expect(c.env.find((e: { name: string }) => e.name === 'REDIS_URL').value).toBe(
        'redis://:$(REDIS_PASSWORD)@redis:6379',
      );
    }
    const cm = JSON.stringify(config().data);
    for (const k of [...needed, 'ADMIN_PASSWORD']) expect(cm).not.toContain(k);
  });

  it('runs Redis with a volume, AOF, noeviction and a password', () => {
    const redis = one('StatefulSet', 'redis');
    expect(redis.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBeDefined();
    const script = podSpec(redis).containers[0].command.join(' ');
    expect(script).toMatch(/--appendonly yes/);
    expect(script).toMatch(/--maxmemory-policy noeviction/);
    expect(script).toMatch(/--requirepass "\$REDIS_PASSWORD"/);
    expect(one('Service', 'redis').spec.ports[0].port).toBe(6379);
  });

  it('routes /v1beta, /v1 and /upload to the gateway and the rest to admin', () => {
    const rules = one('Ingress', 'gemini-gateway').spec.rules;
    const paths: Array<{ path: string; backend: { service: { name: string } } }> = rules.flatMap(
      (r: { http: { paths: unknown[] } }) => r.http.paths,
    );
    const to = (p: string) => paths.find((x) => x.path === p)?.backend.service.name;
    expect(to('/v1beta')).toBe('gateway');
    expect(to('/v1')).toBe('gateway');
    expect(to('/upload')).toBe('gateway');
    expect(to('/')).toBe('admin');
    const services = new Set(all('Service').map((s) => s.metadata.name));
    for (const p of paths) expect(services).toContain(p.backend.service.name);
  });

  it('offers SQLite storage as a component: a PVC each for auth and key-pool', () => {
    const { objects: withSqlite } = renderK8s('overlays/sqlite-check', {
      'overlays/sqlite-check/kustomization.yaml': [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources: [../example]',
        'components: [../../components/sqlite]',
        '',
      ].join('\n'),
    });
    for (const o of withSqlite) expect(() => validateK8s(o)).not.toThrow();
    const find = (kind: string, name: string) => withSqlite.find((o) => o.kind === kind && o.metadata.name === name)!;
    expect(find('ConfigMap', 'gemini-gateway-config').data.DATABASE_TYPE).toBe('sqlite');
    for (const name of ['auth', 'key-pool']) {
      expect(find('PersistentVolumeClaim', `${name}-data`)).toBeDefined();
      const vols = find('Deployment', name).spec.template.spec.volumes;
      expect(vols.find((v: { name: string }) => v.name === 'data').persistentVolumeClaim.claimName).toBe(
        `${name}-data`,
      );
    }
  });

  it('ships the secrets files only as examples, and ignores the filled-in ones', () => {
    const dir = join(ROOT, 'k8s/overlays/example');
    for (const f of ['secrets.env.example', 'admin.env.example']) expect(existsSync(join(dir, f))).toBe(true);
    const ignored = readFileSync(join(dir, '.gitignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['secrets.env', 'admin.env']));
  });
});
