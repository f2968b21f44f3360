import { Inject, Injectable } from '@nestjs/common';
import axios from 'axios';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import type { KeyCheckResult } from '@gg/contracts';
import {
  classifyUpstream,
  redactSecrets,
  resetState,
  toAttemptOutcome,
  type UpstreamClassification,
} from '@gg/key-state';
import { DomainError } from '@gg/nest-common';
import { PoolStateService } from '../state/pool-state.service';

export const CHECK_TIMEOUT_MS = 15_000;

export interface ProbeResult {
  status: number;
  latencyMs: number;
  classification: UpstreamClassification;
}

/** One cheap real upstream call with a pool key (list one model), and what it means for the key. */
@Injectable()
export class KeyCheckService {
  private readonly url: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly pool: PoolStateService,
  ) {
    this.url = `${config.geminiBaseUrl}/v1beta/models?pageSize=1`;
  }

  /** The admin's "check": applied as an outcome; a pass puts the key back to active. */
  async check(id: string): Promise<KeyCheckResult> {
    const entry = this.pool.get(id);
    if (!entry) throw DomainError.notFound('pool key not found');
    const probe = await this.probe(entry.secret);
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
    if (!entry) return;
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

  async probe(secret: string): Promise<ProbeResult> {
    const started = performance.now();
    let status = 0;
    let body: string | undefined;
    let headers: Record<string, string | string[] | undefined> | undefined;
    try {
      const res = await axios.get<string>(this.url, {
        headers: { 'x-goog-api-key': secret, accept: 'application/json' },
        timeout: CHECK_TIMEOUT_MS,
        validateStatus: () => true,
        responseType: 'text',
        transformResponse: (data: string) => data,
        maxRedirects: 0,
        maxContentLength: 1024 * 1024,
      });
      status = res.status;
      body = typeof res.data === 'string' ? res.data : JSON.stringify(res.data);
      headers = res.headers as Record<string, string | string[] | undefined>;
    } catch (e) {
      body = (e as Error).message || 'request failed';
    }
    const latencyMs = Math.round(performance.now() - started);
    const classification = classifyUpstream(status, body, headers);
    classification.reason = scrub(classification.reason, secret);
    return { status, latencyMs, classification };
  }
}

/** Upstream text may echo the key; whatever it looks like, it never leaves key-pool. */
function scrub(text: string, secret: string): string {
  return redactSecrets(secret ? text.split(secret).join('[redacted]') : text);
}
