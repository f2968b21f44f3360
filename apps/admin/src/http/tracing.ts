import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { appTracer } from '@gg/nest-common';
import type { NextFunction, Request, Response } from 'express';

const API = /^\/api(?:\/|\?|$)/;

/**
 * Express middleware, with tracing on only (README "Observability"): a SERVER span per /api call, continuing the
 * caller's `traceparent` if it sent one, active while the call runs (its RPCs to auth and key-pool continue it).
 * Named by the route pattern (`GET /api/keys/:id`) once it is known: never a path's ids, a query, a body or a token.
 */
export function traceApiCalls(req: Request, res: Response, next: NextFunction): void {
  if (!API.test(req.originalUrl)) return next();
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = appTracer().startSpan(
    `${req.method} /api`,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } },
    parent,
  );
  res.once('close', () => {
    const route = (req.route as { path?: unknown } | undefined)?.path;
    if (typeof route === 'string') {
      span.updateName(`${req.method} ${route}`);
      span.setAttribute('http.route', route);
    }
    const status = res.writableFinished ? res.statusCode : 499;
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) {
      span.setAttribute('error.type', String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  });
  context.with(trace.setSpan(parent, span), next);
}
