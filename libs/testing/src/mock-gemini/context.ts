/** What a route handler gets, and what it may answer. */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { GoogleError, invalidArgument } from './errors';
import type { Prepared } from './http-out';
import type { MockMethod, ScriptRule } from './types';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** path without query, with a percent-encoded ':' decoded */
  path: string;
  query: Record<string, string>;
  /** '' when none */
  key: string;
  keyFromQuery: boolean;
  body: Buffer;
  version: string;
  apiMethod: MockMethod;
  model: string;
  /** the resource id after files/ or cachedContents/, '' otherwise */
  id: string;
  gzip: boolean;
  /** http://host:port of the mock */
  baseUrl: string;
  /** the script rule answering this request, if any */
  rule: ScriptRule | undefined;
}

/** A JSON answer: serialized pretty (with the trailing newline Google writes) by the server. */
export interface JsonReply {
  json: unknown;
  status?: number;
  /** extra response headers, flat [name, value, …] */
  headers?: readonly string[];
}

/** 'streaming': the handler took over the response. */
export type Reply = Prepared | GoogleError | JsonReply | 'streaming';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function isGoogleError(r: unknown): r is GoogleError {
  return r instanceof GoogleError;
}

/** The body as JSON; undefined when empty, a GoogleError when malformed. */
export function parseBody(ctx: RequestContext): Json | undefined | GoogleError {
  if (ctx.body.length === 0) return undefined;
  try {
    const v = JSON.parse(ctx.body.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch {
    // fall through
  }
  return invalidArgument('Invalid JSON payload received. Unexpected token.');
}
