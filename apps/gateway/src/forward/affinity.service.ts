import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import Redis from 'ioredis';

const TTL_SECONDS = 48 * 3600;
const LOCAL_MAX = 50_000;
const REF_RE = /(?:files|cachedContents)\/[A-Za-z0-9][A-Za-z0-9_-]*/g;
const FILES = Buffer.from('files/');
const CACHED = Buffer.from('cachedContents/');

/**
 * Key affinity (gemini-wire.md 2.7): files, upload sessions and cached contents belong to the pool key that
 * created them. Shared by every gateway replica through Redis, with a local cache in front.
 */
@Injectable()
export class AffinityService implements OnApplicationShutdown {
  private readonly logger = new Logger(AffinityService.name);
  private readonly redis: Redis;
  private readonly local = new Map<string, string>();
  private readonly prefix: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.redis = new Redis({ ...redisOptions(config.redisUrl), maxRetriesPerRequest: 2, enableOfflineQueue: true });
    this.redis.on('error', () => undefined);
    this.prefix = `${config.redisNamespace}:gateway:affinity:`;
  }

  /** Resources a request refers to: from its path and, when present, from its body. */
  referencesOf(path: string, body: Buffer[] | null): string[] {
    const refs: string[] = [];
    const m = /\/((?:files|cachedContents)\/[^/:?]+)/.exec(path);
    if (m) refs.push(m[1]);
    const up = /[?&]upload_id=([^&]+)/.exec(path);
    if (up) refs.push(`upload:${up[1]}`);
    if (body) {
      for (const chunk of body) {
        if (chunk.indexOf(FILES) === -1 && chunk.indexOf(CACHED) === -1) continue;
        for (const r of chunk.toString('latin1').match(REF_RE) ?? []) refs.push(r);
      }
    }
    return refs;
  }

  /** The pool key id bound to any of the resources, if known. */
  async ownerOf(refs: string[]): Promise<string | null> {
    for (const r of refs) {
      const hit = this.local.get(r);
      if (hit) return hit;
    }
    if (refs.length === 0) return null;
    try {
      const owners = await this.redis.mget(refs.map((r) => this.prefix + r));
      for (let i = 0; i < refs.length; i++) {
        const o = owners[i];
        if (o) {
          this.remember(refs[i], o);
          return o;
        }
      }
    } catch (e) {
      this.logger.warn(`affinity lookup failed: ${(e as Error).message}`);
    }
    return null;
  }

  bind(resource: string, keyId: string): void {
    this.remember(resource, keyId);
    this.redis.set(this.prefix + resource, keyId, 'EX', TTL_SECONDS).catch((e: Error) => {
      this.logger.warn(`affinity not stored: ${e.message}`);
    });
  }

  private remember(resource: string, keyId: string): void {
    if (this.local.size >= LOCAL_MAX) {
      const first = this.local.keys().next().value;
      if (first !== undefined) this.local.delete(first);
    }
    this.local.set(resource, keyId);
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
