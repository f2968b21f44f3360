/**
 * What the mock "generates": `echo: <last user text>`, or a functionCall when the request declares a function and
 * the last user text says `call <name>` (optionally followed by a JSON object of args). Token counts are words.
 */
import { countWords, opaqueId } from './google-json';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface FunctionCallAnswer {
  id: string;
  name: string;
  args: Record<string, unknown>;
  thoughtSignature: string;
}

export interface Answer {
  /** the text chunks of the answer (joined = the unary text); empty for a function call */
  chunks: readonly string[];
  call?: FunctionCallAnswer;
  promptTokens: number;
  cachedTokens: number;
}

function asArray(v: unknown): Json[] {
  if (Array.isArray(v)) return v as Json[];
  return v && typeof v === 'object' ? [v as Json] : [];
}

function partsText(content: Json | undefined): string {
  let out = '';
  for (const p of asArray(content?.['parts'])) if (typeof p['text'] === 'string') out += (out ? ' ' : '') + p['text'];
  return out;
}

/** Words of every text part of `contents` and of the system instruction; at least 1. */
export function promptWords(body: Json): number {
  let n = countWords(partsText(body['systemInstruction'] ?? body['system_instruction']));
  for (const c of asArray(body['contents'])) n += countWords(partsText(c));
  return Math.max(1, n);
}

export function lastUserText(body: Json): string {
  const contents = asArray(body['contents']);
  for (let i = contents.length - 1; i >= 0; i--) {
    const role = contents[i]['role'];
    if (role === undefined || role === 'user' || role === '') return partsText(contents[i]);
  }
  return '';
}

function declaredFunctions(body: Json): Set<string> {
  const names = new Set<string>();
  for (const tool of asArray(body['tools'])) {
    for (const decl of asArray(tool['functionDeclarations'] ?? tool['function_declarations'])) {
      if (typeof decl['name'] === 'string') names.add(decl['name']);
    }
  }
  return names;
}

function parseArgs(rest: string): Record<string, unknown> {
  const start = rest.indexOf('{');
  const end = rest.lastIndexOf('}');
  if (start !== 0 || end < 0) return {};
  try {
    const v = JSON.parse(rest.slice(0, end + 1));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

/** Split a text into at most `count` chunks on word boundaries; the chunks join back to the text. */
export function splitWords(text: string, count = 3): string[] {
  const pieces = text.match(/\s*\S+/g) ?? [text];
  const tail = text.slice(pieces.join('').length);
  if (tail) pieces[pieces.length - 1] += tail;
  const k = Math.max(1, Math.min(count, pieces.length));
  const out: string[] = [];
  for (let i = 0; i < k; i++) {
    out.push(pieces.slice(Math.floor((i * pieces.length) / k), Math.floor(((i + 1) * pieces.length) / k)).join(''));
  }
  return out;
}

/** `seed` makes function-call ids differ between requests; the text answer depends on the body only. */
export function answer(body: Json, seed: string, cachedTokens = 0): Answer {
  const promptTokens = promptWords(body) + cachedTokens;
  const text = lastUserText(body);
  const declared = declaredFunctions(body);
  if (declared.size) {
    const m = /\bcall\s+([A-Za-z_][\w.-]*)\s*/.exec(text);
    if (m && declared.has(m[1])) {
      const id = opaqueId(`${seed}|${m[1]}`, 8).toLowerCase();
      const call: FunctionCallAnswer = {
        id,
        name: m[1],
        args: parseArgs(text.slice(m.index + m[0].length)),
        thoughtSignature: Buffer.from(`mock-thought-signature:${m[1]}:${id}`).toString('base64'),
      };
      return { chunks: [], call, promptTokens, cachedTokens };
    }
  }
  return { chunks: splitWords(text ? `echo: ${text}` : 'echo:'), promptTokens, cachedTokens };
}

export function callTokens(call: FunctionCallAnswer): number {
  return countWords(`${call.name} ${JSON.stringify(call.args)}`);
}

export function usage(a: Answer, candidateTokens: number): Json {
  const u: Json = { promptTokenCount: a.promptTokens };
  if (candidateTokens) u['candidatesTokenCount'] = candidateTokens;
  u['totalTokenCount'] = a.promptTokens + candidateTokens;
  if (a.cachedTokens) u['cachedContentTokenCount'] = a.cachedTokens;
  u['promptTokensDetails'] = [{ modality: 'TEXT', tokenCount: a.promptTokens }];
  if (a.cachedTokens) u['cacheTokensDetails'] = [{ modality: 'TEXT', tokenCount: a.cachedTokens }];
  return u;
}

export function callPart(call: FunctionCallAnswer): Json {
  return { functionCall: { id: call.id, name: call.name, args: call.args }, thoughtSignature: call.thoughtSignature };
}

export function unaryResponse(a: Answer, model: string, responseId: string): Json {
  const parts = a.call ? [callPart(a.call)] : [{ text: a.chunks.join('') }];
  const tokens = a.call ? callTokens(a.call) : countWords(a.chunks.join(''));
  return {
    candidates: [{ content: { parts, role: 'model' }, finishReason: 'STOP', index: 0 }],
    usageMetadata: usage(a, tokens),
    modelVersion: model,
    responseId,
  };
}

/** One stream element; `sentAt` (epoch ms with fraction) lets a client measure relay delay. */
export function streamChunk(
  a: Answer,
  parts: Json[],
  last: boolean,
  candidateTokens: number,
  model: string,
  responseId: string,
  sentAt: number,
): Json {
  const candidate: Json = { content: { parts, role: 'model' } };
  if (last) candidate['finishReason'] = 'STOP';
  candidate['index'] = 0;
  return { candidates: [candidate], usageMetadata: usage(a, candidateTokens), modelVersion: model, responseId, sentAt };
}
