import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
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

  constructor(o: ImageFetcherOptions = {}) {
    this.maxBytes = o.maxBytes ?? 20 * 1024 * 1024;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.maxRedirects = o.maxRedirects ?? 3;
    this.allowed = o.isAllowedAddress ?? isPublicAddress;
    this.resolve = o.resolve ?? resolveAll;
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
    const agent = new Agent({
      connect: { lookup: pinned(target.address, target.family), timeout: this.timeoutMs },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    try {
      const res = await request(u, {
        method: 'GET',
        dispatcher: agent,
        signal,
        headers: { accept: 'image/*,application/pdf;q=0.8', 'user-agent': 'gemini-gateway' },
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
      void agent.destroy().catch(() => undefined);
    }
  }

  private tooLarge(param: string): InvalidRequestError {
    return new InvalidRequestError(
      `'${param}': the image is larger than ${Math.round(this.maxBytes / 1024 / 1024)} MB.`,
      param,
    );
  }
}
