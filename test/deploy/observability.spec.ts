import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, renderK8s, validateK8s, type K8sObject } from './k8s-render';
import {
  allPanels,
  dashboardQueries,
  loadDashboard,
  loadPlainRules,
  loadPrometheusRule,
  metricNames,
  OBSERVABILITY,
  ruleQueries,
  selectors,
} from './observability';

/**
 * k8s/observability, checked offline: the dashboard and the rules are well formed, the component renders on the
 * example overlay, and the default install is unchanged. That every metric they query exists on a running stack
 * is test/e2e/observability.e2e-spec.ts.
 */
describe('k8s/observability (dashboard, alert rules, scrape config)', () => {
  const dashboard = loadDashboard();
  const rule = loadPrometheusRule();
  const queries = [...dashboardQueries(dashboard), ...ruleQueries(rule.spec.groups)];

  describe('the metric-name extractor', () => {
    it('finds the metrics and nothing else: not functions, keywords, labels, strings, ranges or variables', () => {
      expect(
        metricNames(
          'histogram_quantile(0.99, sum by (le, route) (rate(gateway_request_duration_seconds_bucket{namespace=~"$namespace", route!="x y"}[$__rate_interval])))',
        ),
      ).toEqual(['gateway_request_duration_seconds_bucket']);
      expect(
        metricNames('sum(rate(a_total[5m])) by (job) / on (job) group_left (route) b > bool 0.5 unless c offset 15m'),
      ).toEqual(['a_total', 'b', 'c']);
      expect(metricNames('avg_over_time((gg_pool_paused_seconds > bool 0)[15m:1m]) > 1e-9 or vector(0)')).toEqual([
        'gg_pool_paused_seconds',
      ]);
      expect(
        metricNames('label_replace(up{job="a"}, "dst", "$1", "src", "(.*)") # a comment naming not_a_metric'),
      ).toEqual(['up']);
      expect(metricNames('label_values(process_start_time_seconds{namespace=~"$namespace"}, job)')).toEqual([
        'process_start_time_seconds',
      ]);
      expect(metricNames('label_values(namespace)')).toEqual([]);
      expect(metricNames('max(${DS_PROMETHEUS}) + [[old]] + NaN + Inf')).toEqual([]);
    });

    it('reads selectors with their matchers', () => {
      expect(selectors('sum(gg_queue_jobs{queue="usage", state=~"wait.*"}) / x{a!="\\"q\\""} + y')).toEqual([
        {
          metric: 'gg_queue_jobs',
          matchers: [
            { label: 'queue', op: '=', value: 'usage' },
            { label: 'state', op: '=~', value: 'wait.*' },
          ],
        },
        { metric: 'x', matchers: [{ label: 'a', op: '!=', value: '"q"' }] },
      ]);
    });
  });

  describe('the dashboard', () => {
    const panels = allPanels(dashboard);
    const dataPanels = panels.filter((p) => p.type !== 'row');

    it('is a current Grafana dashboard with a stable uid, no instance id, and a Prometheus data source variable', () => {
      expect(dashboard.uid).toBe('gemini-gateway');
      expect(dashboard.id).toBeNull();
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
      const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
      expect(vars.get('DS_PROMETHEUS')).toMatchObject({ type: 'datasource', query: 'prometheus' });
      for (const name of ['namespace', 'job']) {
        expect(vars.get(name)).toMatchObject({ type: 'query', datasource: { uid: '${DS_PROMETHEUS}' } });
      }
    });

    it('gives every panel a unique id and a place on the 24-column grid, no two overlapping', () => {
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const p of panels) {
        expect(Number.isInteger(p.id) && p.id > 0).toBe(true);
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        expect(p.gridPos.w > 0 && p.gridPos.h > 0).toBe(true);
      }
      const overlap = (a: (typeof panels)[0]['gridPos'], b: (typeof panels)[0]['gridPos']) =>
        a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
      for (let i = 0; i < panels.length; i++)
        for (let j = i + 1; j < panels.length; j++)
          expect([panels[i].title, panels[j].title, overlap(panels[i].gridPos, panels[j].gridPos)]).toEqual([
            panels[i].title,
            panels[j].title,
            false,
          ]);
    });

    it('queries through the data source variable in every panel and target, each target with a unique refId', () => {
      expect(dataPanels.length).toBeGreaterThan(20);
      for (const p of dataPanels) {
        expect([p.title, p.datasource]).toEqual([p.title, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }]);
        expect(p.title.length).toBeGreaterThan(0);
        expect(p.targets?.length).toBeGreaterThan(0);
        const refIds = p.targets!.map((t) => t.refId);
        expect(new Set(refIds).size).toBe(refIds.length);
        for (const t of p.targets!) {
          expect([p.title, t.datasource]).toEqual([p.title, p.datasource]);
          expect(t.expr?.trim()).toBeTruthy();
        }
      }
      // rows hold nothing to query: they only group
      for (const p of panels.filter((x) => x.type === 'row')) expect(p.targets).toBeUndefined();
    });

    it('uses only variables it defines, or Grafana built-ins', () => {
      const defined = new Set(dashboard.templating.list.map((v) => v.name));
      const builtIn = new Set(['__rate_interval', '__range', '__interval']);
      for (const q of dashboardQueries(dashboard)) {
        for (const m of q.expr.matchAll(/\$\{?(\w+)/g)) {
          expect([q.where, m[1], defined.has(m[1]) || builtIn.has(m[1])]).toEqual([q.where, m[1], true]);
        }
      }
    });
  });

  describe('the alert rules', () => {
    it('are a PrometheusRule of unique groups and alerts, each with for, a severity, a summary and a description', () => {
      expect(rule).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' });
      expect(rule.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
      const groups = rule.spec.groups;
      expect(new Set(groups.map((g) => g.name)).size).toBe(groups.length);
      const alerts = groups.flatMap((g) => g.rules);
      expect(new Set(alerts.map((r) => r.alert)).size).toBe(alerts.length);
      for (const g of groups) {
        expect(Object.keys(g).sort()).toEqual(['name', 'rules']);
        expect(g.rules.length).toBeGreaterThan(0);
      }
      for (const r of alerts) {
        const fields = ['alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'];
        expect([r.alert, Object.keys(r).filter((k) => !fields.includes(k))]).toEqual([r.alert, []]);
        expect(r.alert).toMatch(/^GeminiGateway[A-Z][A-Za-z0-9]*$/);
        expect(typeof r.expr).toBe('string');
        expect([r.alert, r.for]).toEqual([r.alert, expect.stringMatching(/^(\d+(ms|s|m|h|d|w|y))+$/)]);
        expect([r.alert, r.labels?.severity]).toEqual([r.alert, expect.stringMatching(/^(critical|warning|info)$/)]);
        expect(r.annotations?.summary?.trim()).toBeTruthy();
        expect(r.annotations?.description?.trim()).toBeTruthy();
      }
    });

    it('covers the failures the operators asked for', () => {
      const alerts = rule.spec.groups.flatMap((g) => g.rules.map((r) => r.alert));
      expect(alerts).toEqual(
        expect.arrayContaining([
          'GeminiGatewayPoolNoActiveKey',
          'GeminiGatewayPoolMostKeysCooling',
          'GeminiGatewayPoolPaused',
          'GeminiGatewayUsageLagGrowing',
          'GeminiGatewayHighErrorRatio',
          'GeminiGatewayEscapedErrors',
          'GeminiGatewayUpstreamClientRebuilds',
          'GeminiGatewayTargetDown',
        ]),
      );
    });

    it('ships the same groups as a plain rules file', () => {
      expect(loadPlainRules()).toEqual({ groups: rule.spec.groups });
    });

    it('names in its annotations only labels its expression keeps', () => {
      for (const r of rule.spec.groups.flatMap((g) => g.rules)) {
        const kept = new Set<string>();
        const by = /\bby\s*\(([^)]*)\)/.exec(r.expr);
        if (by) for (const l of by[1].split(',')) kept.add(l.trim());
        else for (const s of selectors(r.expr)) for (const m of s.matchers) kept.add(m.label);
        if (!by) for (const l of ['job', 'instance', 'namespace']) kept.add(l); // no aggregation: target labels stay
        const text = Object.values(r.annotations ?? {}).join(' ');
        for (const m of text.matchAll(/\$labels\.(\w+)/g))
          expect([r.alert, m[1], kept.has(m[1])]).toEqual([r.alert, m[1], true]);
      }
    });
  });

  it('writes every expression with balanced brackets and at least one metric', () => {
    for (const q of queries) {
      const stripped = q.expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      const stack: string[] = [];
      const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
      for (const c of stripped) {
        if ('([{'.includes(c)) stack.push(c);
        else if (c in pairs) expect([q.where, stack.pop()]).toEqual([q.where, pairs[c]]);
      }
      expect([q.where, stack]).toEqual([q.where, []]);
      expect([q.where, metricNames(q.expr).length > 0]).toEqual([q.where, true]);
    }
  });

  it('documents every app metric it queries in docs/deploy.md', () => {
    const docs = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
    const names = new Set(queries.flatMap((q) => metricNames(q.expr)));
    for (const name of names) {
      // prom-client's defaults (process_*, nodejs_*) and Prometheus' own `up` are documented as such
      if (/^(process|nodejs)_/.test(name) || name === 'up') continue;
      const base = name.replace(/_(bucket|sum|count)$/, '');
      expect([name, new RegExp(`\`(${base}|${name})[\`{]`).test(docs)]).toEqual([name, true]);
    }
  });

  describe('the kustomize component', () => {
    // what docs/deploy.md tells an operator to do: add the component to the overlay (which sets the namespace)
    const example = readFileSync(join(ROOT, 'k8s/overlays/example/kustomization.yaml'), 'utf8');
    const { objects } = renderK8s('overlays/example', {
      'overlays/example/kustomization.yaml': `${example}components:\n  - ../../observability\n`,
    });
    const find = (kind: string, name: string): K8sObject => {
      const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
      if (!o) throw new Error(`no ${kind} ${name} in the rendered output`);
      return o;
    };

    it('is not part of the default install (kubectl apply -k k8s/)', () => {
      const { objects: byDefault } = renderK8s();
      expect(byDefault.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/'))).toEqual([]);
      expect(byDefault.filter((o) => o.metadata.labels?.grafana_dashboard)).toEqual([]);
    });

    it('adds the dashboard ConfigMap for the Grafana sidecar, under a fixed name, in the overlay namespace', () => {
      const cm = find('ConfigMap', 'gemini-gateway-dashboard');
      expect(() => validateK8s(cm)).not.toThrow();
      expect(cm.metadata.namespace).toBe('gemini-gateway');
      expect(cm.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
      const file = readFileSync(join(OBSERVABILITY, 'grafana-dashboard.json'), 'utf8');
      expect(cm.data['grafana-dashboard.json']).toBe(file);
      // kubectl apply keeps the whole object in an annotation limited to 256 KiB
      expect(Buffer.byteLength(file)).toBeLessThan(200 * 1024);
      // everything else still renders and validates
      for (const o of objects.filter((x) => !x.apiVersion.startsWith('monitoring.coreos.com/'))) {
        expect(() => validateK8s(o)).not.toThrow();
      }
    });

    it('adds the PrometheusRule as written in alerts.yaml, in the overlay namespace', () => {
      const pr = find('PrometheusRule', 'gemini-gateway');
      expect(pr.metadata.namespace).toBe('gemini-gateway');
      expect(pr.spec).toEqual(parse(readFileSync(join(OBSERVABILITY, 'alerts.yaml'), 'utf8')).spec);
    });

    it('scrapes every app once, on the port its prometheus.io/port annotation names, with the app as job', () => {
      const monitors = objects.filter((o) => o.kind === 'PodMonitor');
      expect(monitors.length).toBeGreaterThan(0);
      const scraped = new Map<string, number>();
      for (const pm of monitors) {
        expect(pm.metadata.namespace).toBe('gemini-gateway');
        expect(pm.spec.jobLabel).toBe('app.kubernetes.io/name');
        const [expression] = pm.spec.selector.matchExpressions;
        expect(expression).toMatchObject({ key: 'app.kubernetes.io/name', operator: 'In' });
        for (const app of expression.values as string[]) {
          const template = find('Deployment', app).spec.template;
          expect(template.metadata.labels['app.kubernetes.io/name']).toBe(app);
          for (const ep of pm.spec.podMetricsEndpoints) {
            const port = template.spec.containers[0].ports.find((p: { name: string }) => p.name === ep.port);
            expect([app, ep.port, port?.containerPort]).toEqual([
              app,
              ep.port,
              Number(template.metadata.annotations['prometheus.io/port']),
            ]);
            expect(ep.path).toBe(template.metadata.annotations['prometheus.io/path']);
            scraped.set(app, (scraped.get(app) ?? 0) + 1);
          }
        }
      }
      expect(Object.fromEntries(scraped)).toEqual({ gateway: 1, auth: 1, 'key-pool': 1, admin: 1 });
      // the rules' job matchers name exactly these jobs
      for (const q of ruleQueries(rule.spec.groups))
        for (const s of selectors(q.expr))
          for (const m of s.matchers.filter((x) => x.label === 'job'))
            expect(m.value.split('|').sort()).toEqual([...scraped.keys()].sort());
    });
  });
});
