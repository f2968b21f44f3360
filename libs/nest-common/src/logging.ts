import { getConfig } from '@gg/config';
import { LoggerModule } from 'nestjs-pino';
import pino, { type Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import {
  Module,
  RequestMethod,
  type DynamicModule,
  type LoggerService,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSaneRequestId, requestIdMixin, runWithRequestId } from './request-context';
import { ServiceLogSink } from './service-log-sink';

/** Paths redacted from every log line: secrets never reach a log. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-goog-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'req.query.key',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.passwordHash',
  '*.secret',
  '*.key',
  '*.keys',
  '*.token',
  '*.access_token',
  '*.refreshToken',
  '*.apiKey',
];

/** A sane client request id: reused when it looks harmless, otherwise a fresh UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return isSaneRequestId(v) ? v : randomUUID();
}

/**
 * The app's pino logger: JSON lines on stdout, `app` on every line, `requestId` on every line written for a
 * request (libs/nest-common request-context), secrets redacted by path. Each line also
 * goes, batched and asynchronously, to the capped Redis stream `${REDIS_NAMESPACE}:service-logs` (unless
 * `serviceLogs: false`).
 */
export function createLogger(app: string, opts: { serviceLogs?: boolean } = {}): Logger {
  const config = getConfig();
  const options = {
    level: config.logLevel,
    base: { app, pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // a `requestId` the line names itself (a batch's outcome, the transaction line) wins over the context's
    mixin: requestIdMixin,
  };
  if (opts.serviceLogs === false) return pino(options);
  const sink = new ServiceLogSink({ redisUrl: config.redisUrl, namespace: config.redisNamespace });
  return pino(
    options,
    pino.multistream([
      { stream: pino.destination({ dest: 1, sync: true }), level: config.logLevel },
      { stream: sink, level: config.logLevel },
    ]),
  );
}

type WithId = IncomingMessage & { id?: unknown };

/** The request's id: the one already given to it (by pino-http or the context middleware), else from the header. */
function idOf(req: WithId): string {
  if (typeof req.id !== 'string') req.id = requestIdFrom(req.headers['x-request-id']);
  return req.id as string;
}

/** Serves each HTTP request inside its request context (whichever of it and pino-http runs first names the id). */
function enterRequestContext(req: WithId, _res: ServerResponse, next: () => void): void {
  runWithRequestId(idOf(req), next);
}

@Module({})
class RequestContextModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(enterRequestContext).forRoutes({ path: '{*splat}', method: RequestMethod.ALL });
  }
}

/**
 * nestjs-pino for an HTTP app: request id from `x-request-id` on every line (and in every RPC message sent while
 * serving it), echoed in the response.
 */
export function loggerModule(app: string): DynamicModule {
  const logger = createLogger(app);
  const pinoModule = LoggerModule.forRoot({
    forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
    pinoHttp: {
      logger,
      genReqId: (req: IncomingMessage, res) => {
        const id = idOf(req);
        res.setHeader('x-request-id', id);
        return id;
      },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'debug',
      autoLogging: { ignore: (req) => /^\/(healthz|readyz|metrics)/.test(req.url ?? '') },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url?.replace(/([?&]key=)[^&]*/g, '$1[redacted]'),
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  });
  return { module: RequestContextModule, imports: [pinoModule], exports: [pinoModule] };
}

/** A Nest LoggerService writing through pino, for apps without an HTTP framework (the gateway). */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}
  log(message: unknown, context?: string): void {
    this.pino.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.pino.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.pino.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.pino.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.pino.trace({ context }, String(message));
  }
}
