/** Google `google.rpc.Status` error bodies (docs/gemini-wire.md §5), pretty-printed like Google's. */
import { fnv1a, pretty } from './google-json';

const SERVICE = 'generativelanguage.googleapis.com';

const STATUS_BY_CODE: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const MESSAGE_BY_CODE: Record<number, string> = {
  400: 'Request contains an invalid argument.',
  401:
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid ' +
    'authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
  403: 'The caller does not have permission',
  404: 'Requested entity was not found.',
  429: 'Resource has been exhausted (e.g. check quota).',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'Deadline expired before operation could complete.',
};

export class GoogleError {
  constructor(
    readonly code: number,
    /** the serialized body, pretty-printed, with a trailing newline */
    readonly body: string,
  ) {}
}

export function statusForCode(code: number): string {
  return STATUS_BY_CODE[code] ?? (code >= 500 ? 'INTERNAL' : code >= 400 ? 'FAILED_PRECONDITION' : 'UNKNOWN');
}

export function googleError(code: number, message?: string, status?: string, details?: unknown[]): GoogleError {
  const error: Record<string, unknown> = {
    code,
    message: message ?? MESSAGE_BY_CODE[code] ?? 'Unknown error.',
    status: status ?? statusForCode(code),
  };
  if (details?.length) error['details'] = details;
  return new GoogleError(code, pretty({ error }) + '\n');
}

export const MISSING_KEY = googleError(
  403,
  "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other " +
    'form of API consumer identity to call this API.',
);

const INVALID_KEY_MESSAGE = 'API key not valid. Please pass a valid API key.';
export const INVALID_KEY = googleError(400, INVALID_KEY_MESSAGE, 'INVALID_ARGUMENT', [
  {
    '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
    reason: 'API_KEY_INVALID',
    domain: 'googleapis.com',
    metadata: { service: SERVICE },
  },
  { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: INVALID_KEY_MESSAGE },
]);

export function rateLimited(model: string, retryDelay = '47s', quotaId?: string): GoogleError {
  const id = quotaId ?? 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier';
  const metric = /Token/i.test(id)
    ? 'generativelanguage.googleapis.com/generate_content_free_tier_input_token_count'
    : 'generativelanguage.googleapis.com/generate_content_free_tier_requests';
  return googleError(
    429,
    'You exceeded your current quota, please check your plan and billing details. For more information on this ' +
      'error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
    'RESOURCE_EXHAUSTED',
    [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: metric,
            quotaId: id,
            quotaDimensions: { location: 'global', model: model || 'gemini-2.5-flash' },
          },
        ],
      },
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [
          {
            description: 'Learn more about Gemini API quotas',
            url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
          },
        ],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
    ],
  );
}

/** Google names the key in this message; so does the mock (a gateway must not leak it to its users). */
export function suspended(key: string): GoogleError {
  const project = `projects/${fnv1a(key) % 1_000_000_000_000}`;
  return googleError(403, `Permission denied: Consumer 'api_key:${key}' has been suspended.`, 'PERMISSION_DENIED', [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'CONSUMER_SUSPENDED',
      domain: 'googleapis.com',
      metadata: { consumer: project, service: SERVICE },
    },
    {
      '@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
      locale: 'en-US',
      message: `Permission denied: Consumer 'api_key:${key}' has been suspended.`,
    },
  ]);
}

export function fileDenied(id: string): GoogleError {
  return googleError(
    403,
    `You do not have permission to access the File ${id} or it may not exist.`,
    'PERMISSION_DENIED',
  );
}

export function cacheDenied(): GoogleError {
  return googleError(403, 'CachedContent not found (or permission denied)', 'PERMISSION_DENIED');
}

export function modelNotFound(model: string, version: string, method: string): GoogleError {
  return googleError(
    404,
    `models/${model} is not found for API version ${version}, or is not supported for ${method}. Call ListModels ` +
      'to see the list of available models and their supported methods.',
    'NOT_FOUND',
  );
}

export function invalidArgument(message: string): GoogleError {
  return googleError(400, message, 'INVALID_ARGUMENT');
}

/** The bare object Google writes into a 200 SSE stream when it fails mid-way (no `data: ` prefix). */
export const MID_STREAM_ERROR = '{"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}';

export const NOT_FOUND_PATH = googleError(404, 'Requested entity was not found.', 'NOT_FOUND');
