import { Logger } from '@nestjs/common';
import { ClientRedis, ServerRedis, type RedisOptions } from '@nestjs/microservices';
import { SpanKind } from '@opentelemetry/api';
import type Redis from 'ioredis';
import { contextOf, runInContextOf, withContext } from './request-context';
import { telemetryEnabled, traceHandler } from './telemetry';
import type { OpenFailure, TransportSeal } from './transport-seal';

type RedisTransportOptions = NonNullable<RedisOptions['options']>;

const WARN_EVERY_MS = 10_000;
const logger = new Logger('RedisTransport');
let lastWarning = 0;

function dropped(why: OpenFailure, channel: string): void {
  const now = Date.now();
  if (now - lastWarning < WARN_EVERY_MS) return;
  lastWarning = now;
  // the channel is a pattern name of libs/contracts (no data); the message itself is never logged
  logger.warn(`dropped a ${why} message on ${channel.slice(0, 120)}: not sealed with this TRANSPORT_KEY`);
}

function parse(buffer: string | Buffer): unknown {
  try {
    return JSON.parse(buffer.toString());
  } catch {
    return undefined;
  }
}

/**
 * The Nest Redis server (requests and events in, replies out), every message sealed with the transport key. A
 * message is handled in the request context it carries (`_ctx`): the handler's log lines name the request.
 */
export class SealedServerRedis extends ServerRedis {
  constructor(
    options: RedisTransportOptions,
    private readonly seal: TransportSeal,
  ) {
    super({ ...options, serializer: { serialize: (packet: unknown) => seal.seal(packet) } });
  }

  override async handleMessage(channel: string, buffer: string, pub: Redis, pattern: string): Promise<unknown> {
    const opened = this.seal.open(parse(buffer));
    if (!opened.ok) return dropped(opened.why, channel);
    const packet = opened.packet as { pattern?: unknown } | null;
    // sealed for one pattern, handled under that pattern only: a captured request re-published elsewhere is dropped
    if (!packet || typeof packet !== 'object' || (typeof packet.pattern === 'string' && packet.pattern !== channel)) {
      return dropped('forged', channel);
    }
    const handle = (): Promise<unknown> => super.handleMessage(channel, JSON.stringify(packet), pub, pattern);
    if (!telemetryEnabled()) return runInContextOf(packet, handle);
    // a request continues the sender's trace (child span); an event is linked to it (no span when it carries none)
    const kind = 'id' in packet ? SpanKind.SERVER : SpanKind.CONSUMER;
    const name = channel.slice(channel.indexOf(':') + 1);
    return runInContextOf(packet, () => traceHandler(name, kind, contextOf(packet), handle));
  }
}

/**
 * The Nest Redis client (requests and events out, replies in), every message sealed with the transport key. A
 * message sent while a request is served carries its context (`_ctx`, sealed with the rest).
 */
export class SealedClientRedis extends ClientRedis {
  constructor(
    options: RedisTransportOptions,
    private readonly seal: TransportSeal,
  ) {
    super({ ...options, serializer: { serialize: (packet: object) => seal.seal(withContext(packet)) } });
  }

  override createResponseCallback(): (channel: string, buffer: string) => Promise<void> {
    const inner = super.createResponseCallback();
    return async (channel, buffer) => {
      const opened = this.seal.open(parse(buffer));
      if (!opened.ok) return dropped(opened.why, channel);
      return inner(channel, JSON.stringify(opened.packet));
    };
  }
}
