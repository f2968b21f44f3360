import { Logger } from '@nestjs/common';
import { ClientRedis, ServerRedis, type RedisOptions } from '@nestjs/microservices';
import { SpanKind } from '@opentelemetry/api';
import type Redis from 'ioredis';
import { injectTrace, telemetryEnabled, traceHandler, type TraceCarrier } from './telemetry';
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

/** The Nest Redis server (requests and events in, replies out), every message sealed with the transport key. */
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
    const trace = takeTraceEnvelope(packet);
    if (!trace) return super.handleMessage(channel, JSON.stringify(packet), pub, pattern);
    // a request continues the sender's trace (child span); an event is linked to it
    const kind = 'id' in packet ? SpanKind.SERVER : SpanKind.CONSUMER;
    const name = channel.slice(channel.indexOf(':') + 1);
    return traceHandler(name, kind, trace, () => super.handleMessage(channel, JSON.stringify(packet), pub, pattern));
  }
}

/** The Nest Redis client (requests and events out, replies in), every message sealed with the transport key. */
export class SealedClientRedis extends ClientRedis {
  constructor(
    options: RedisTransportOptions,
    private readonly seal: TransportSeal,
  ) {
    super({ ...options, serializer: { serialize: (packet: unknown) => seal.seal(withTraceEnvelope(packet)) } });
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

/**
 * The sender's trace context rides beside the payload, in the packet's `_ctx` envelope (never in `data`, which the
 * handlers validate): `{ traceparent, links }` of the context active when the message was sent, with tracing on.
 */
function withTraceEnvelope(packet: unknown): unknown {
  if (!telemetryEnabled() || !packet || typeof packet !== 'object') return packet;
  const carrier: TraceCarrier = {};
  injectTrace(carrier);
  return carrier.traceparent || carrier.links ? { ...packet, _ctx: carrier } : packet;
}

/** Removes the `_ctx` envelope from a received packet and returns its trace carrier, if any. */
function takeTraceEnvelope(packet: object): TraceCarrier | undefined {
  if (!('_ctx' in packet)) return undefined;
  const envelope = (packet as { _ctx?: unknown })._ctx;
  delete (packet as { _ctx?: unknown })._ctx;
  return envelope && typeof envelope === 'object' ? (envelope as TraceCarrier) : undefined;
}
