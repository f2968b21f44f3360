import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { isUpstreamProxyFailure, proxyDispatcher } from '@gg/nest-common';
import { Agent, request, type Dispatcher } from 'undici';
import { isPublicAddress } from './address-policy';
import { normalizeMime, type InlineData } from './chat-messages';
import { InvalidRequestError } from './openai-errors';

export interface ImageFetcherOptions {
  maxBytes?: number;
  timeoutMs?: number;
  maxRedirects?: number;
  /** which resolved addresses may be connected to; tests allow the local mock explicitly */
  isAllowedAddress?: (ip: string) => boolean;
  resolve?: (host: string) => Promise<LookupAddress[]>;
  /** UPSTREAM_PROXY: images are fetched through it as every other outgoing request; null or absent: direct */
  proxy?: string | null;
}

const ACCEPTED = /^(image\/|application\/pdf$)/;

function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((ok, fail) => dnsLookup(host, { all: true, verbatim: true }, (e, a) => (e ? fail(e) : ok(a))));
}

/** A lookup that always answers the address that was checked, so a second DNS answer cannot re-point the socket. */
function pinned(address: string, family: number): LookupFunction {
  return ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
    if (opts?.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  }) as unknown as LookupFunction;
}

/**
 * Fetches an `image_url` given as http(s) and inlines it: the host is resolved first and refused when any address
 * is not public, the connection goes to the checked address only, redirects are followed by hand and re-checked,
 * the size and the time are capped, and the MIME type comes from the answer's content-type.
 */
export class ImageFetcher {
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly maxRedirects: number;
  private readonly allowed: (ip: string) => boolean;
  private readonly resolve: (host: string) => Promise<LookupAddress[]>;
  private readonly proxy: string | null;

  constructor(o: ImageFetcherOptions = {}) {
    this.maxBytes = o.maxBytes ?? 20 * 1024 * 1024;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.maxRedirects = o.maxRedirects ?? 3;
    this.allowed = o.isAllowedAddress ?? isPublicAddress;
    this.resolve = o.resolve ?? resolveAll;
    this.proxy = o.proxy ?? null;
  }

  async fetch(url: string, param: string, signal?: AbortSignal): Promise<InlineData> {
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
    try {
      let current = url;
      for (let hop = 0; ; hop++) {
        const r = await this.once(current, param, abort);
        if ('data' in r) return r;
        if (hop >= this.maxRedirects) throw new InvalidRequestError(`'${param}': too many redirects.`, param);
        current = r.location;
      }
    } catch (e) {
      if (e instanceof InvalidRequestError) throw e;
      const reason = deadline.aborted
        ? `no answer within ${this.timeoutMs / 1000} s`
        : isUpstreamProxyFailure(e)
          ? e.message
          : ((e as { code?: string }).code ?? (e as Error).message);
      throw new InvalidRequestError(`'${param}': the image could not be fetched (${reason}).`, param);
    }
  }

  private async once(raw: string, param: string, signal: AbortSignal): Promise<InlineData | { location: string }> {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new InvalidRequestError(`'${param}' is not a valid URL.`, param);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new InvalidRequestError(`'${param}' must be an http(s) URL.`, param);
    if (u.username || u.password) throw new InvalidRequestError(`'${param}' must not carry credentials.`, param);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await this.resolve(host);
    if (addresses.length === 0 || addresses.some((a) => !this.allowed(a.address))) {
      throw new InvalidRequestError(
        `'${param}': ${host} is a private, local or reserved address; only public image URLs are fetched.`,
        param,
      );
    }
    const target = addresses[0];
    const timers = { headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs };
    let dispatcher: Dispatcher;
    let to = u;
    if (this.proxy) {
      // Through a proxy no lookup of ours opens the connection: the proxy resolves what it is asked for. So it is
      // asked for the checked address itself (CONNECT address:port, SOCKS5 by address), and the name travels in the
      // Host header and as the TLS server name (undici takes it from the Host header), which is what the certificate
      // is checked against: a second DNS answer cannot re-point the tunnel.
      to = new URL(u);
      to.hostname = target.family === 6 ? `[${target.address}]` : target.address;
      dispatcher = proxyDispatcher(this.proxy, to.origin, { ...timers, connectTimeoutMs: this.timeoutMs });
    } else {
      dispatcher = new Agent({
        connect: { lookup: pinned(target.address, target.family), timeout: this.timeoutMs },
        ...timers,
      });
    }
    try {
      const res = await request(to, {
        method: 'GET',
        dispatcher,
        signal,
        headers: { host: u.host, accept: 'image/*,application/pdf;q=0.8', 'user-agent': 'gemini-gateway' },
      });
      if (res.statusCode >= 300 && res.statusCode < 400 && typeof res.headers['location'] === 'string') {
        await res.body.dump();
        return { location: new URL(res.headers['location'], u).toString() };
      }
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new InvalidRequestError(`'${param}': fetching the image answered HTTP ${res.statusCode}.`, param);
      }
      const ct = res.headers['content-type'];
      const mime = normalizeMime(String((Array.isArray(ct) ? ct[0] : ct) ?? ''));
      if (!ACCEPTED.test(mime)) {
        await res.body.dump();
        throw new InvalidRequestError(
          `'${param}': the URL is not an image (content-type ${mime || 'missing'}).`,
          param,
        );
      }
      if (Number(res.headers['content-length'] ?? 0) > this.maxBytes) {
        res.body.destroy();
        throw this.tooLarge(param);
      }
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const c of res.body) {
        n += (c as Buffer).length;
        if (n > this.maxBytes) {
          res.body.destroy();
          throw this.tooLarge(param);
        }
        chunks.push(c as Buffer);
      }
      return { mimeType: mime, data: Buffer.concat(chunks).toString('base64') };
    } finally {
      void dispatcher.destroy().catch(() => undefined);
    }
  }

  private tooLarge(param: string): InvalidRequestError {
    return new InvalidRequestError(
      `'${param}': the image is larger than ${Math.round(this.maxBytes / 1024 / 1024)} MB.`,
      param,
    );
  }
}
