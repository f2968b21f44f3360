import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {}

/** Collect the request body as chunks (no concatenation: a retry re-sends the same buffers). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<{ chunks: Buffer[]; length: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (c: Buffer) => {
      length += c.length;
      if (length > maxBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError(`request body over ${maxBytes} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.once('end', () => resolve({ chunks, length }));
    req.once('error', reject);
  });
}
