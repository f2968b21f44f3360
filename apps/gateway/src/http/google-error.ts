import type { ServerResponse } from 'node:http';
import type { GoogleStatus } from '@gg/contracts';

/** Write an error the gateway itself produces, in Google's shape (docs/api.md §3.5 "Errors the gateway produces itself"). */
export function writeGoogleError(
  res: ServerResponse,
  code: number,
  status: GoogleStatus,
  message: string,
  headers?: Record<string, string>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message, status } });
  res.writeHead(code, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}
