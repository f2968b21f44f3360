/** The requests every path gets: a unary generateContent with a ~1 KB answer, and an SSE stream of 5 chunks. */
import type { Load } from '../lib/wrk';

const words = Array.from({ length: 90 }, (_, i) => `token${i % 10}`).join(' ');

export const UNARY: Load = {
  path: '/v1beta/models/gemini-2.5-flash:generateContent',
  body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: `Repeat after me: ${words}` }] }] }),
};

/** The mock process streams 5 chunks back to back for gemini-2.5-flash (see procs/mock.ts). */
export const SSE: Load = {
  path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
  body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Count to five' }] }] }),
};

/** Check a target answers both requests with 200; returns the unary answer's size in bytes and the SSE chunk count. */
export async function probe(url: string, key: string): Promise<{ unaryBytes: number; sseChunks: number }> {
  const call = async (l: Load): Promise<string> => {
    const r = await fetch(url + l.path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
      body: l.body,
    });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`${url}${l.path}: ${r.status} ${text.slice(0, 300)}`);
    return text;
  };
  const unary = await call(UNARY);
  const sse = await call(SSE);
  return { unaryBytes: Buffer.byteLength(unary), sseChunks: (sse.match(/^data: /gm) ?? []).length };
}
