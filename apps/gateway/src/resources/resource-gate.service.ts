import { Injectable, Logger } from '@nestjs/common';
import { DebugLog } from '@gg/nest-common';
import type { Readable } from 'node:stream';
import { writeGoogleError } from '../http/google-error';
import type { Exchange } from '../forward/exchange';
import { OwnershipService, type Verdict } from './ownership.service';
import { ResourceLists } from './resource-lists.service';

/**
 * The ownership check of a native request, before anything goes upstream: refuses a request naming a resource that
 * is not the caller's (404, as for one that does not exist), answers list calls itself, and otherwise says which
 * pool key holds the resources the request names.
 */
@Injectable()
export class ResourceGate {
  private readonly logger = new Logger(ResourceGate.name);
  private readonly debug = new DebugLog(ResourceGate.name);

  constructor(
    private readonly ownership: OwnershipService,
    private readonly lists: ResourceLists,
  ) {}

  /**
   * `{ pinned }` to go on (pinned: the pool key holding the named resources, or null), or null when the request
   * has been answered here. `url` is the raw request target, `query` the query sent upstream (no `key`).
   */
  async check(
    ex: Exchange,
    url: string,
    body: Buffer[] | Readable,
    query: string,
  ): Promise<{ pinned: string | null } | null> {
    // a streamed upload's bytes are never read here: its session is named in the query
    const buffered = Array.isArray(body) && body.length > 0 ? body : null;
    const plan = this.ownership.plan(ex.req.method ?? 'GET', url, buffered);
    ex.resources = plan;
    if (!plan) return { pinned: null };
    if (plan.unsupported) {
      ex.status = 404;
      ex.error = `not available through the gateway: ${plan.unsupported}`;
      writeGoogleError(
        ex.res,
        404,
        'NOT_FOUND',
        `Requested entity was not found: ${plan.unsupported} is not available through this gateway.`,
      );
      return null;
    }
    try {
      const verdict = await this.ownership.authorize(ex.record?.userId ?? '', plan.refs);
      if (this.debug.on) this.debug.line('affinity', affinityLine(ex.requestId, plan.refs, verdict));
      if (!verdict.ok) {
        if (!Array.isArray(body)) body.resume();
        ex.status = verdict.status;
        if (verdict.status === 503) {
          ex.error = 'ownership records unavailable';
          writeGoogleError(
            ex.res,
            503,
            'UNAVAILABLE',
            'The gateway cannot check resource ownership now; retry shortly.',
            { 'retry-after': '1' },
          );
        } else {
          ex.error = `not found or not owned: ${verdict.name}`;
          writeGoogleError(ex.res, 404, 'NOT_FOUND', `Requested entity was not found: ${verdict.name}.`);
        }
        return null;
      }
      if (plan.list) {
        await this.lists.answer(ex, plan.list, plan.version, new URLSearchParams(query));
        return null;
      }
      return { pinned: verdict.keyId };
    } catch (e) {
      this.logger.warn(`ownership check failed (request ${ex.requestId}): ${(e as Error).message}`);
      ex.status = 503;
      ex.error = 'ownership records unavailable';
      writeGoogleError(ex.res, 503, 'UNAVAILABLE', 'The gateway cannot check resource ownership now; retry shortly.', {
        'retry-after': '1',
      });
      return null;
    }
  }
}

/**
 * "affinity": the resources a request names and the pool key that holds them. hit: the caller's, pinned to that key;
 * miss: not the caller's or no record (answered 404); unreadable: the records could not be read (503).
 */
function affinityLine(requestId: string, refs: { name: string }[], verdict: Verdict): object {
  const result = verdict.ok ? 'hit' : verdict.status === 404 ? 'miss' : 'unreadable';
  return {
    requestId,
    resources: refs.map((r) => r.name),
    result,
    ...(verdict.ok ? { keyId: verdict.keyId } : { refused: verdict.name }),
  };
}
