import { Injectable } from '@nestjs/common';
import { AuthPattern } from '@gg/contracts';
import type { ProvenCaller } from '@gg/nest-common';
import { CallerRpc } from './caller-rpc';

/**
 * How long a replica believes auth's "this session is live". Logout, refresh-token reuse, password change,
 * role change and deactivation therefore refuse a token on every replica within this time (plus one RPC); on
 * the replica that made the change, at once (`forget`, `forgetUser`).
 */
export const SESSION_CHECK_TTL_MS = 500;
const MAX_ENTRIES = 10_000;

/**
 * Whether a session is still live, asked of auth (`auth.me` with a caller proof: auth checks the user, role,
 * token version and that the session has not ended) at most once per SESSION_CHECK_TTL_MS per session and token
 * version; in between, a Map lookup. Concurrent checks of one session share one RPC.
 */
@Injectable()
export class SessionLiveness {
  private readonly liveUntil = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** userId or sessionId -> the `seq` at which this replica stopped believing it */
  private readonly forgotten = new Map<string, number>();
  private seq = 0;

  constructor(private readonly rpc: CallerRpc) {}

  /** Resolves when auth (recently) said the session is live; throws its answer (401) or UNAVAILABLE otherwise. */
  assertLive(caller: ProvenCaller, now = Date.now()): Promise<void> {
    const id = cacheKey(caller);
    const until = this.liveUntil.get(id);
    if (until !== undefined && until > now) return Promise.resolve();
    let check = this.inFlight.get(id);
    if (!check) {
      check = this.ask(caller, id).finally(() => {
        if (this.inFlight.get(id) === check) this.inFlight.delete(id);
      });
      this.inFlight.set(id, check);
    }
    return check;
  }

  /** This replica stops believing the session at once (a logout through it). */
  forget(sessionId: string): void {
    this.drop(sessionId, (c) => c.sessionId === sessionId);
  }

  /** This replica stops believing every session of the user at once (a change of the user made through it). */
  forgetUser(userId: string): void {
    this.drop(userId, (c) => c.userId === userId);
  }

  private drop(what: string, matches: (c: { sessionId: string; userId: string }) => boolean): void {
    this.forgotten.set(what, ++this.seq);
    if (this.forgotten.size > MAX_ENTRIES) this.forgotten.clear();
    for (const map of [this.liveUntil, this.inFlight]) {
      for (const id of map.keys()) if (matches(parseKey(id))) map.delete(id);
    }
  }

  private async ask(caller: ProvenCaller, id: string): Promise<void> {
    const asked = this.seq;
    await this.rpc.send<unknown>(caller, AuthPattern.Me);
    // a forget() while auth was being asked: its answer may predate the change, so it is not kept
    const forgotAfter = Math.max(this.forgotten.get(caller.userId) ?? 0, this.forgotten.get(caller.sessionId) ?? 0);
    if (forgotAfter > asked) return;
    if (this.liveUntil.size >= MAX_ENTRIES) this.prune();
    this.liveUntil.set(id, Date.now() + SESSION_CHECK_TTL_MS);
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, until] of this.liveUntil) if (until <= now) this.liveUntil.delete(id);
    if (this.liveUntil.size >= MAX_ENTRIES) this.liveUntil.clear();
  }
}

function cacheKey(c: ProvenCaller): string {
  return `${c.sessionId}|${c.userId}|${c.role}|${c.tokenVersion}`;
}

function parseKey(id: string): { sessionId: string; userId: string } {
  const [sessionId, userId] = id.split('|');
  return { sessionId, userId };
}
