import { z } from 'zod';
import { idField } from './common';

export const PROXY_SCHEMES = ['http:', 'https:', 'socks5:'] as const;
export const PROXY_URL_MAX = 2048;

/**
 * Why a proxy URL is not accepted, or null: http://, https:// or socks5://, a host, optional user:password, no path
 * nor query (the rules of UPSTREAM_PROXY). No message names the value: it may carry a password.
 */
export function proxyUrlProblem(value: string): string | null {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'url is not a valid URL';
  }
  if (!(PROXY_SCHEMES as readonly string[]).includes(u.protocol)) {
    return `url must use ${PROXY_SCHEMES.join(', ')}, got ${u.protocol}`;
  }
  if (!u.hostname) return 'url has no host';
  if ((u.pathname !== '' && u.pathname !== '/') || u.search || u.hash) {
    return 'url must be scheme://[user:password@]host[:port] with no path or query';
  }
  // SOCKS5 username/password authentication (RFC 1929) carries each in at most 255 bytes
  const long = (part: string): boolean => new TextEncoder().encode(safeDecode(part)).length > 255;
  if (u.protocol === 'socks5:' && (long(u.username) || long(u.password))) {
    return 'a socks5 user name and password must be at most 255 bytes each';
  }
  return null;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

const proxyUrlField = z
  .string({ error: 'url must be a proxy URL' })
  .trim()
  .max(PROXY_URL_MAX, { error: `url must be at most ${PROXY_URL_MAX} characters` })
  .superRefine((v, ctx) => {
    const problem = proxyUrlProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  // trailing slashes of `http://host:port/` are not part of a proxy's address
  .transform((v) => v.replace(/\/+$/, ''));

/** `POST /api/proxies` (key-pool: `pool.proxies.add`) */
export const addProxySchema = z.strictObject({ url: proxyUrlField });
export type AddProxyInput = z.infer<typeof addProxySchema>;

/** `PATCH /api/keys/{id}`: the key's proxy, or null (back to consistent hashing) */
export const updatePoolKeySchema = z.strictObject({
  proxyId: idField('proxyId').nullable().optional(),
});
export type UpdatePoolKeyInput = z.infer<typeof updatePoolKeySchema>;

/** `pool.proxies.bind` */
export const bindProxyRequestSchema = z.strictObject({ id: idField(), proxyId: idField('proxyId').nullable() });
