import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './k8s-render';

/** The monitoring files of k8s/observability, loaded and walked by the static and the end-to-end checks. */
export const OBSERVABILITY = join(ROOT, 'k8s/observability');

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Panel = {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: Array<{ expr?: string; refId?: string; datasource?: { type?: string; uid?: string } }>;
  panels?: Panel[];
  [k: string]: any;
};
export type Dashboard = {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: any; datasource?: any; [k: string]: any }> };
  [k: string]: any;
};
export type AlertRule = {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [k: string]: any;
};
export type RuleGroup = { name: string; rules: AlertRule[]; [k: string]: any };
/* eslint-enable @typescript-eslint/no-explicit-any */

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(join(OBSERVABILITY, 'grafana-dashboard.json'), 'utf8')) as Dashboard;
}

/** alerts.yaml: the PrometheusRule. */
export function loadPrometheusRule(): {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: { groups: RuleGroup[] };
} {
  return parse(readFileSync(join(OBSERVABILITY, 'alerts.yaml'), 'utf8'));
}

/** prometheus-rules.yaml: the same groups as a plain Prometheus rules file. */
export function loadPlainRules(): { groups: RuleGroup[] } {
  return parse(readFileSync(join(OBSERVABILITY, 'prometheus-rules.yaml'), 'utf8'));
}

/** Every panel, the panels of collapsed rows included. */
export function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** A PromQL expression and where it was found (for the failure messages). */
export interface Query {
  where: string;
  expr: string;
}

/** Every PromQL expression of the dashboard: panel targets and the template variables' queries. */
export function dashboardQueries(d: Dashboard): Query[] {
  const out: Query[] = [];
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr });
  }
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const q: unknown = typeof v.query === 'string' ? v.query : v.query?.query;
    if (typeof q === 'string' && q) out.push({ where: `variable $${v.name}`, expr: q });
  }
  return out;
}

export function ruleQueries(groups: RuleGroup[]): Query[] {
  return groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert ?? r.record}`, expr: r.expr })));
}

/** Names that look like identifiers in PromQL but are operators or keywords, never a metric. */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'atan2',
  'inf',
  'nan',
]);
const IDENT = /(?<![\w.:$])[a-zA-Z_:][\w:]*(?![\w:])/g;
const STRING = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g;
/** Grafana's variables: `$name`, `${name}`, `${name:format}`, `[[name]]` */
const VARIABLE = /\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]/g;

/**
 * The metric names a PromQL expression (or a Grafana `label_values(...)` variable query) reads. Label matchers,
 * strings, ranges and subqueries, grouping label lists, Grafana variables, function names and keywords are not
 * metric names; everything else that looks like an identifier is.
 */
export function metricNames(expr: string): string[] {
  let s = expr
    .replace(STRING, ' "" ')
    .replace(/#[^\n]*/g, ' ') // comments (strings, which may hold a #, are gone)
    .replace(VARIABLE, ' 0 ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  // Grafana: label_values(metric, label) reads metric; label_values(label) reads no metric at all
  s = s.replace(/\blabel_values\s*\(([^()]*)\)/g, (_, args: string) => {
    const parts = args.split(',').map((a) => a.trim());
    return parts.length > 1 ? ` ${parts[0]} ` : ' ';
  });
  const names = new Set<string>();
  for (const m of s.matchAll(IDENT)) {
    const name = m[0];
    const after = s.slice(m.index + name.length).trimStart();
    if (after.startsWith('(')) continue; // a function or an aggregation
    if (KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names].sort();
}

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** The selectors `metric{label="value", ...}` of an expression, with their matchers (values unescaped). */
export function selectors(expr: string): Array<{ metric: string; matchers: Matcher[] }> {
  const out: Array<{ metric: string; matchers: Matcher[] }> = [];
  const SELECTOR = /(?<![\w:])([a-zA-Z_:][\w:]*)\s*\{((?:[^}"]|"(?:[^"\\]|\\.)*")*)\}/g;
  const MATCHER = /([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g;
  for (const m of expr.matchAll(SELECTOR)) {
    if (m[1] === 'label_values') continue;
    const matchers = [...m[2].matchAll(MATCHER)].map((x) => ({
      label: x[1],
      op: x[2] as Matcher['op'],
      value: x[3].replace(/\\(.)/g, '$1'),
    }));
    out.push({ metric: m[1], matchers });
  }
  return out;
}

/** What one /metrics text declares: metric types (from `# TYPE`) and the label sets of each sample name. */
export interface Exposition {
  types: Map<string, string>;
  samples: Map<string, Array<Record<string, string>>>;
}

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Map<string, Array<Record<string, string>>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][\w:]*) (\w+)/.exec(line);
    if (type) types.set(type[1], type[2]);
    const help = /^# HELP ([a-zA-Z_:][\w:]*)/.exec(line);
    if (help && !types.has(help[1])) types.set(help[1], 'untyped');
    if (line.startsWith('#') || !line.trim()) continue;
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+\S+/.exec(line);
    if (!sample) continue;
    const labels: Record<string, string> = {};
    for (const l of (sample[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    const list = samples.get(sample[1]) ?? [];
    list.push(labels);
    samples.set(sample[1], list);
  }
  return { types, samples };
}

/**
 * Whether a queried name is exposed: declared by a `# TYPE`/`# HELP` line (a labelled metric no code path has
 * touched yet still has those), or a histogram's or summary's `_bucket`/`_sum`/`_count` series.
 */
export function declares(e: Exposition, name: string): boolean {
  if (e.types.has(name)) return true;
  const base = /^(.+)_(bucket|sum|count)$/.exec(name);
  if (!base) return false;
  const t = e.types.get(base[1]);
  return t === 'histogram' || (t === 'summary' && base[2] !== 'bucket');
}
