import { startMockGemini, Stack, type AppName, type MockGemini } from '@gg/testing';
import {
  dashboardQueries,
  declares,
  loadDashboard,
  loadPrometheusRule,
  metricNames,
  parseExposition,
  ruleQueries,
  selectors,
  type Exposition,
  type Query,
} from '../deploy/observability';
import { createUserKey, fakeGeminiKey, poll } from './helpers';
import { gatewayInSync } from './pool-support';

jest.setTimeout(90_000);

const APPS: AppName[] = ['gateway', 'auth', 'key-pool', 'admin'];
/** Series Prometheus makes itself for every target: no app exposes them. */
const SYNTHETIC = new Set(['up']);
/** Labels Prometheus adds from the target (PodMonitor, Kubernetes discovery), never on an app's /metrics. */
const TARGET_LABELS = new Set(['namespace', 'job', 'instance', 'pod', 'container', 'endpoint', 'service']);

/**
 * The dashboard and the alert rules of k8s/observability query only what the apps really expose: every metric
 * name in every PromQL expression is declared on some app's /metrics of a running stack, and every label a
 * selector matches on (with its value, for `=`) is one the app puts on that metric. A renamed metric or label
 * then fails here instead of leaving a panel empty or an alert that can never fire.
 */
describe('observability: the dashboard and the alert rules query metrics that exist', () => {
  let mock: MockGemini;
  let stack: Stack;
  const scraped = new Map<AppName, Exposition>();
  const queries: Query[] = [...dashboardQueries(loadDashboard()), ...ruleQueries(loadPrometheusRule().spec.groups)];

  const scrape = async (app: AppName): Promise<Exposition> => {
    const r = await fetch(`${stack.metricsUrlOf(app)}/metrics`);
    expect(r.status).toBe(200);
    return parseExposition(await r.text());
  };
  const samplesOf = (e: Exposition, metric: string) => e.samples.get(metric) ?? [];

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url });
    const admin = await stack.login();
    // a pool-key add, a success and a refused key: the series these create lazily (labelled children) exist
    expect((await stack.api(admin, 'POST', '/api/keys', { keys: [fakeGeminiKey(), fakeGeminiKey()] })).status).toBe(
      201,
    );
    const { key } = await createUserKey(stack, admin, 'observability');
    await gatewayInSync(stack, 2);
    const generate = (apiKey: string) =>
      fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: 'POST',
        headers: { 'x-goog-api-key': apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ parts: [{ text: 'hello' }] }] }),
      });
    expect((await generate(key)).status).toBe(200);
    const refused = await generate('gg1-not-a-real-key');
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    // the usage batch and the outcome report travel through Redis: wait until auth and key-pool counted them
    await poll(
      () => scrape('auth'),
      (e) => samplesOf(e, 'gg_auth_usage_records_total').some((l) => l.result === 'applied'),
      15_000,
      'auth to apply the usage record',
    );
    await poll(
      () => scrape('key-pool'),
      (e) => samplesOf(e, 'gg_pool_outcomes_total').some((l) => l.kind === 'success'),
      15_000,
      'key-pool to count the outcome',
    );
    for (const app of APPS) scraped.set(app, await scrape(app));
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  /** The apps whose /metrics declare a queried name (or its histogram). */
  const declaredBy = (name: string): AppName[] => APPS.filter((app) => declares(scraped.get(app)!, name));

  it('the check can fail: a name no app exposes is reported, a histogram series is found by its base', () => {
    expect(declaredBy('no_such_metric_total')).toEqual([]);
    expect(declaredBy('gateway_requests_total_bucket')).toEqual([]);
    expect(declaredBy('gateway_request_duration_seconds_bucket')).toEqual(['gateway']);
    expect(declaredBy('gateway_request_duration_seconds_count')).toEqual(['gateway']);
    expect(declaredBy('process_cpu_seconds_total')).toEqual(APPS);
  });

  it('every metric the dashboard and the rules query is exposed by an app', () => {
    expect(queries.length).toBeGreaterThan(30);
    const missing: string[] = [];
    for (const q of queries) {
      for (const name of metricNames(q.expr)) {
        if (!SYNTHETIC.has(name) && declaredBy(name).length === 0) missing.push(`${q.where}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every label a selector matches on is on that metric, and every exact value is one the app reports', () => {
    const problems: string[] = [];
    for (const q of queries) {
      for (const s of selectors(q.expr)) {
        if (SYNTHETIC.has(s.metric)) continue;
        const own = s.matchers.filter((m) => !TARGET_LABELS.has(m.label));
        if (own.length === 0) continue;
        const samples = APPS.flatMap((app) => samplesOf(scraped.get(app)!, s.metric));
        // a labelled metric nothing has touched yet has no sample to compare with: the traffic above touches every
        // one that a selector narrows by label, so none may be left unchecked
        if (samples.length === 0) {
          problems.push(`${q.where}: ${s.metric} has no sample to check its labels against`);
          continue;
        }
        for (const m of own) {
          if (!samples.some((l) => m.label in l)) problems.push(`${q.where}: ${s.metric} has no label ${m.label}`);
          else if (m.op === '=' && !m.value.includes('$') && !samples.some((l) => l[m.label] === m.value))
            problems.push(`${q.where}: ${s.metric} never has ${m.label}="${m.value}"`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
