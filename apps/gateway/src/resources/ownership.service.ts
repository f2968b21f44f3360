import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { DebugLog } from '@gg/nest-common';
import type { Exchange } from '../forward/exchange';
import { defaultExpiry, namedInAnswer } from './answer-names';
import { planRequest, type ResourcePlan } from './request-plan';
import { ownedNameOf, uploadSessionName, type OwnedName } from './resource-names';
import { ResourceStore, type StoredResource } from './resource-store.service';

const GOOGLE_HOST = 'generativelanguage.googleapis.com';

export type Verdict =
  /** go on, on this pool key when the request names resources (null: any key) */
  | { ok: true; keyId: string | null }
  /** answer 404 NOT_FOUND: a resource that is not the caller's, or that the gateway has no record of */
  | { ok: false; status: 404; name: string }
  /** answer 503: the records cannot be read now */
  | { ok: false; status: 503; name: string };

/**
 * Resource ownership on the data plane (README "Resources: affinity and ownership"): whoever's request created a
 * resource owns it; a request of anyone else that names it is refused as if it did not exist, and so is one that
 * names a resource the gateway has no record of. The owning pool key is remembered with the owner (key affinity).
 */
@Injectable()
export class OwnershipService {
  private readonly logger = new Logger(OwnershipService.name);
  private readonly debug = new DebugLog(OwnershipService.name);
  readonly upstreamHosts: readonly string[];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly store: ResourceStore,
  ) {
    const u = new URL(config.geminiBaseUrl);
    this.upstreamHosts = [...new Set([GOOGLE_HOST, u.host.toLowerCase(), u.hostname.toLowerCase()])];
  }

  /** The plan of a native request; null (no work at all) for the many that name no owned resource. */
  plan(method: string, url: string, body: Buffer[] | null): ResourcePlan | null {
    return planRequest(method, url, body, this.upstreamHosts);
  }

  /** Every resource the request names must be the caller's; the first one's pool key serves the request. */
  async authorize(userId: string, refs: OwnedName[]): Promise<Verdict> {
    if (refs.length === 0) return { ok: true, keyId: null };
    let records: (StoredResource | null)[];
    try {
      records = await this.store.get(refs.map((r) => r.name));
    } catch (e) {
      this.logger.warn(`ownership records unreadable: ${(e as Error).message}`);
      return { ok: false, status: 503, name: refs[0].name };
    }
    for (let i = 0; i < refs.length; i++) {
      const r = records[i];
      if (!r || r.userId !== userId) return { ok: false, status: 404, name: refs[i].name };
    }
    return { ok: true, keyId: records[0]?.keyId ?? null };
  }

  /**
   * For routes that learn a resource name from a body they map themselves (the OpenAI route's
   * `extra_body.google.cached_content`): the same check, from raw names (`cachedContents/x`, or a bare id).
   */
  authorizeNames(
    userId: string,
    names: string[],
    bareKind: 'cachedContent' | 'file' = 'cachedContent',
  ): Promise<Verdict> {
    const prefix = bareKind === 'file' ? 'files' : 'cachedContents';
    return this.authorize(
      userId,
      names.map((n) => ownedNameOf(n) ?? { name: `${prefix}/${n}`, kind: bareKind }),
    );
  }

  /** A resumable upload session started on `keyId`: the caller's, before the client learns its URL. */
  async bindUploadSession(ex: Exchange, uploadId: string, keyId: string): Promise<void> {
    const session = {
      name: uploadSessionName(uploadId),
      kind: 'uploadSession' as const,
      sizeBytes: null,
      expiresAt: defaultExpiry('uploadSession', Date.now()),
    };
    await this.record(ex, [session], keyId).catch((e: Error) => {
      this.logger.warn(`upload session not recorded (request ${ex.requestId}): ${e.message}`);
    });
  }

  /**
   * After a successful answer: record what it created for the caller (names nobody holds yet: a name already
   * recorded keeps its owner), move a patched resource's expiry, forget a deleted one.
   */
  async settle(ex: Exchange, plan: ResourcePlan, keyId: string, answer: string | null): Promise<void> {
    try {
      if (plan.deletes) {
        const [r] = await this.store.get([plan.deletes.name]);
        if (r) await this.store.remove(r);
        return;
      }
      if (answer === null) return;
      const named = namedInAnswer(answer, Date.now(), this.upstreamHosts);
      if (plan.updates) {
        const again = named.find((n) => n.name === plan.updates?.name);
        const [r] = await this.store.get([plan.updates.name]);
        if (r && again && again.expiresAt !== r.expiresAt) await this.store.put({ ...r, expiresAt: again.expiresAt });
      }
      if (plan.captures) await this.record(ex, named, keyId);
    } catch (e) {
      this.logger.warn(`ownership not recorded (request ${ex.requestId}): ${(e as Error).message}`);
    }
  }

  /** Resources named in an answer about a resource of the caller's (a finished batch's result file): theirs too. */
  async adopt(ex: Exchange, answer: string, keyId: string): Promise<void> {
    await this.record(ex, namedInAnswer(answer, Date.now(), this.upstreamHosts), keyId).catch((e: Error) => {
      this.logger.warn(`ownership not recorded (request ${ex.requestId}): ${e.message}`);
    });
  }

  private async record(
    ex: Exchange,
    named: { name: string; kind: StoredResource['kind']; sizeBytes: number | null; expiresAt: number }[],
    keyId: string,
  ): Promise<void> {
    const userId = ex.record?.userId;
    if (!userId || named.length === 0) return;
    const existing = await this.store.get(named.map((n) => n.name));
    const now = Date.now();
    if (this.debug.on) {
      const created = named.filter((_, i) => !existing[i]).map((n) => n.name);
      const known = named.filter((_, i) => existing[i]).map((n) => n.name);
      // "affinity recorded": what this request created now belongs to its user, on the key that made it
      this.debug.line('affinity recorded', { requestId: ex.requestId, keyId, created, alreadyOwned: known });
    }
    await Promise.all(
      named.map((n, i) => (existing[i] ? undefined : this.store.put({ ...n, userId, keyId, createdAt: now }))),
    );
  }
}
