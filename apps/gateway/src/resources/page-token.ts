import type { ResourceKind } from '@gg/contracts';
import { MAX_PAGE_SIZE } from './resource-names';
import type { PagePosition } from './resource-store.service';

const PREFIX = 'gg1.';

/** The gateway's page token: opaque to the client, the position after the last item of the page. */
export function encodePageToken(kind: ResourceKind, pos: PagePosition): string {
  return PREFIX + Buffer.from(JSON.stringify({ k: kind, s: pos.score, n: pos.name })).toString('base64url');
}

/** The position a token holds, or null when it is not one of ours for this kind. */
export function decodePageToken(token: string, kind: ResourceKind): PagePosition | null {
  if (!token.startsWith(PREFIX) || token.length > 2048) return null;
  try {
    const v = JSON.parse(Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8')) as {
      k?: unknown;
      s?: unknown;
      n?: unknown;
    };
    if (v.k !== kind || typeof v.s !== 'number' || !Number.isFinite(v.s) || typeof v.n !== 'string') return null;
    return { score: v.s, name: v.n };
  } catch {
    return null;
  }
}

/** `pageSize` as Google reads it: absent or not positive → the default; above the maximum → the maximum. */
export function pageSizeOf(raw: string | null, def: number): number {
  const n = Number(raw);
  if (!raw || !Number.isFinite(n) || n <= 0) return def;
  return Math.min(MAX_PAGE_SIZE, Math.floor(n));
}
