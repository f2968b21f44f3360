import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import type { KeyCheckResult } from '@gg/contracts';
import {
  classifyUpstream,
  redactSecrets,
  resetState,
  toAttemptOutcome,
  type UpstreamClassification,
} from '@gg/key-state';
import { DomainError, isUpstreamProxyFailure, proxyDispatcher } from '@gg/nest-common';
import axios, { type AxiosRequestConfig } from 'axios';
import { fetch, Request, Response, type Dispatcher } from 'undici';
import { ProxiesService } from '../proxies/proxies.service';
import { PoolStateService } from '../state/pool-state.service';

export const CHECK_TIMEOUT_MS = 15_000;
/** the longest answer read: listing one model is a few hundred bytes */
const MAX_ANSWER_BYTES = 1024 * 1024;

export interface ProbeResult {
  status: number;
  latencyMs: number;
  classification: UpstreamClassification;
  /** the proxy failed (UPSTREAM_PROXY, or the key's proxy of the list): the probe says nothing about the key */
  proxyFailure?: true;
  /** why the proxy failed, short (an error code or `HTTP 407`) */
  proxyReason?: string;
}

/** One cheap real upstream call with a pool key (list one model), and what it means for the key. */
@Injectable()
export class KeyCheckService implements OnApplicationShutdown {
  private readonly url: string;
  /**
   * with no proxy list (which routes each key through its own proxy), through UPSTREAM_PROXY when set, as the
   * gateway's traffic; undefined: undici's global dispatcher, direct
   */
  private readonly dispatcher: Dispatcher | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly pool: PoolStateService,
    private readonly proxies: ProxiesService,
  ) {
    this.url = `${config.geminiBaseUrl}/v1beta/models?pageSize=1`;
    this.dispatcher = config.upstreamProxy
      ? proxyDispatcher(config.upstreamProxy, new URL(config.geminiBaseUrl).origin, {
          connectTimeoutMs: config.connectTimeoutMs,
        })
      : undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.dispatcher?.close().catch(() => undefined);
  }

  /** The admin's "check": applied as an outcome; a pass puts the key back to active. */
  async check(id: string): Promise<KeyCheckResult> {
    const entry = this.pool.get(id);
    if (!entry) throw DomainError.notFound('pool key not found');
    const probe = await this.probe(entry.secret, id);
    this.apply(id, probe, 'reset');
    const result: KeyCheckResult = {
      ok: probe.classification.kind === 'success',
      status: probe.status,
      latencyMs: probe.latencyMs,
    };
    if (!result.ok) result.error = scrub(probe.classification.reason, entry.secret);
    return result;
  }

  /**
   * Applies a probe's outcome. On a pass, 'reset' clears everything (the admin asked); 'recover' clears the
   * key-wide state (disabled, backoff) but keeps per-model rate-limit cooldowns, which listing models can't vouch for.
   */
  apply(id: string, probe: ProbeResult, onPass: 'reset' | 'recover', now = Date.now()): void {
    const entry = this.pool.get(id);
    // a probe the proxy failed tells nothing about the key
    if (!entry || probe.proxyFailure) return;
    const outcome = toAttemptOutcome(id, null, probe.status, probe.classification, now);
    outcome.reason = scrub(outcome.reason ?? '', entry.secret);
    this.pool.applyOutcomes([outcome], now);
    if (outcome.kind !== 'success') return;
    this.pool.update(
      [id],
      (s) => (onPass === 'reset' ? resetState(s) : { ...resetState(s), modelCooldowns: s.modelCooldowns }),
      now,
    );
  }

  /** A probe with the key, through its proxy (the list's, else UPSTREAM_PROXY); a proxy of the list that fails rests. */
  async probe(secret: string, keyId: string): Promise<ProbeResult> {
    const via = this.proxies.dispatcherFor(keyId);
    const probe = await this.probeVia(secret, via?.dispatcher ?? this.dispatcher);
    if (via && probe.proxyFailure) {
      this.proxies.failed({ proxyId: via.proxyId, reason: probe.proxyReason ?? 'failed', at: Date.now() });
    }
    return probe;
  }

  private async probeVia(secret: string, dispatcher: Dispatcher | undefined): Promise<ProbeResult> {
    const started = performance.now();
    let status = 0;
    let body: string | undefined;
    let headers: Record<string, string | string[] | undefined> | undefined;
    /** why the proxy failed (UpstreamProxyError.reason), or null */
    let proxyFailure: string | null = null;
    const deadline = AbortSignal.timeout(CHECK_TIMEOUT_MS);
    try {
      // axios on undici's fetch (its own Request and Response, so the dispatcher is honoured): the same dispatcher
      // as the gateway's traffic, through UPSTREAM_PROXY when set; no redirect followed (the answer of Google's own
      // URL is the verdict), every status read as an answer, at most MAX_ANSWER_BYTES of it
      const res = await axios.get<string>(this.url, {
        headers: { 'x-goog-api-key': secret, accept: 'application/json' },
        adapter: 'fetch',
        // the package's types and the ones Node's global fetch is typed with differ in detail (undici 7 vs 6)
        env: { fetch, Request, Response } as unknown as AxiosRequestConfig['env'],
        fetchOptions: dispatcher ? { dispatcher } : undefined,
        maxRedirects: 0,
        maxContentLength: MAX_ANSWER_BYTES,
        responseType: 'text',
        transformResponse: (x: string) => x,
        validateStatus: () => true,
        signal: deadline,
      });
      status = res.status;
      headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, v == null ? undefined : String(v)]));
      body = res.data;
    } catch (e) {
      const cause = causes(e);
      proxyFailure = cause.find(isUpstreamProxyFailure)?.reason ?? null;
      const root = cause[cause.length - 1] as Error & { code?: string };
      body = deadline.aborted
        ? `timeout of ${CHECK_TIMEOUT_MS}ms exceeded`
        : root.code
          ? `${root.code}: ${root.message}`
          : root.message || 'request failed';
      // the answer broke off or was too long: read as no answer
      status = 0;
      headers = undefined;
    }
    const latencyMs = Math.round(performance.now() - started);
    const classification = classifyUpstream(status, body, headers);
    classification.reason = scrub(classification.reason, secret);
    return proxyFailure !== null
      ? { status, latencyMs, classification, proxyFailure: true, proxyReason: proxyFailure }
      : { status, latencyMs, classification };
  }
}

/** An error and its causes, outermost first (axios wraps fetch's TypeError, which wraps undici's error). */
function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let c: unknown = e; c != null && out.length < 8; c = (c as { cause?: unknown }).cause) out.push(c);
  return out;
}

/** Upstream text may echo the key; whatever it looks like, it never leaves key-pool. */
function scrub(text: string, secret: string): string {
  return redactSecrets(secret ? text.split(secret).join('[redacted]') : text);
}
