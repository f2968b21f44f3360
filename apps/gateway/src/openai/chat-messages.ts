import { InvalidRequestError } from './openai-errors';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Json = Record<string, any>;

export interface InlineData {
  mimeType: string;
  data: string;
}

/** Fetches an `http(s)` image URL and returns it inlined (the route passes the guarded fetcher). */
export type UrlResolver = (url: string, param: string) => Promise<InlineData>;

export interface GeminiContents {
  contents: Json[];
  systemInstruction?: { parts: { text: string }[] };
}

const AUDIO_MIME: Record<string, string> = {
  wav: 'audio/wav',
  mp3: 'audio/mp3',
  mpeg: 'audio/mpeg',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  aac: 'audio/aac',
  aiff: 'audio/aiff',
  webm: 'audio/webm',
  pcm16: 'audio/pcm',
};

const DATA_URI = /^data:([^;,]+)?((?:;[^;,]*)*?);base64,(.*)$/s;

export function normalizeMime(mime: string): string {
  const m = mime.split(';')[0].trim().toLowerCase();
  return m === 'image/jpg' ? 'image/jpeg' : m;
}

/** `data:<mime>;base64,<data>` as inlineData, or null when the URL is no base64 data URI. */
export function parseDataUri(url: string): InlineData | null {
  const m = DATA_URI.exec(url);
  if (!m) return null;
  return { mimeType: normalizeMime(m[1] ?? 'application/octet-stream'), data: m[3] };
}

/**
 * OpenAI `messages` → Gemini `contents` and `systemInstruction`. Thought signatures come back from
 * `tool_calls[].extra_content.google.thought_signature`; consecutive `tool` results become one `user` turn of
 * `functionResponse` parts named after the tool call they answer.
 */
export async function mapMessages(messages: unknown, resolveUrl: UrlResolver): Promise<GeminiContents> {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new InvalidRequestError("'messages' must be a non-empty array.", 'messages');
  }
  const contents: Json[] = [];
  const system: { text: string }[] = [];
  const callNames = new Map<string, string>();
  let toolTurn: Json[] | null = null;

  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Json;
    const param = `messages[${i}]`;
    if (!m || typeof m !== 'object' || Array.isArray(m))
      throw new InvalidRequestError(`'${param}' must be an object.`, param);
    const role = m['role'];
    if (role !== 'tool' && role !== 'function') toolTurn = null;
    switch (role) {
      case 'system':
      case 'developer': {
        const text = textOf(m['content'], `${param}.content`);
        if (text) system.push({ text });
        break;
      }
      case 'user': {
        const parts = await userParts(m['content'], `${param}.content`, resolveUrl);
        if (parts.length) contents.push({ role: 'user', parts });
        break;
      }
      case 'assistant': {
        const parts = assistantParts(m, param, callNames);
        if (parts.length) contents.push({ role: 'model', parts });
        break;
      }
      case 'tool':
      case 'function': {
        const part = toolResult(m, param, callNames);
        if (!toolTurn) {
          toolTurn = [];
          contents.push({ role: 'user', parts: toolTurn });
        }
        toolTurn.push(part);
        break;
      }
      default:
        throw new InvalidRequestError(
          `Invalid value for '${param}.role': expected one of system, developer, user, assistant, tool.`,
          `${param}.role`,
        );
    }
  }
  if (contents.length === 0)
    throw new InvalidRequestError("'messages' must contain at least one user or assistant message.", 'messages');
  return system.length ? { contents, systemInstruction: { parts: system } } : { contents };
}

/** Text of a string or an array of text parts (other part kinds are dropped, as for system messages). */
function textOf(content: unknown, param: string): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content))
    throw new InvalidRequestError(`'${param}' must be a string or an array of content parts.`, param);
  return content
    .map((p: Json) =>
      p && (p['type'] === 'text' || p['type'] === 'refusal') ? String(p['text'] ?? p['refusal'] ?? '') : '',
    )
    .filter((t) => t !== '')
    .join('\n');
}

async function userParts(content: unknown, param: string, resolveUrl: UrlResolver): Promise<Json[]> {
  if (typeof content === 'string') return [{ text: content }];
  if (!Array.isArray(content))
    throw new InvalidRequestError(`'${param}' must be a string or an array of content parts.`, param);
  const parts: Json[] = [];
  for (let j = 0; j < content.length; j++) {
    const p = content[j] as Json;
    const at = `${param}[${j}]`;
    switch (p?.['type']) {
      case 'text':
        if (typeof p['text'] !== 'string')
          throw new InvalidRequestError(`'${at}.text' must be a string.`, `${at}.text`);
        parts.push({ text: p['text'] });
        break;
      case 'image_url': {
        const url = typeof p['image_url'] === 'string' ? p['image_url'] : p['image_url']?.['url'];
        if (typeof url !== 'string' || url === '')
          throw new InvalidRequestError(`'${at}.image_url.url' must be a URL.`, `${at}.image_url.url`);
        parts.push({ inlineData: await inlineOf(url, `${at}.image_url.url`, resolveUrl) });
        break;
      }
      case 'input_audio': {
        const audio = p['input_audio'] as Json | undefined;
        const format = String(audio?.['format'] ?? '').toLowerCase();
        if (typeof audio?.['data'] !== 'string' || !AUDIO_MIME[format]) {
          throw new InvalidRequestError(
            `'${at}.input_audio' needs base64 'data' and a 'format' among ${Object.keys(AUDIO_MIME).join(', ')}.`,
            `${at}.input_audio`,
          );
        }
        parts.push({ inlineData: { mimeType: AUDIO_MIME[format], data: audio['data'] } });
        break;
      }
      case 'file': {
        const data = p['file']?.['file_data'];
        const inline = typeof data === 'string' ? parseDataUri(data) : null;
        if (!inline)
          throw new InvalidRequestError(`'${at}.file.file_data' must be a base64 data URI.`, `${at}.file.file_data`);
        parts.push({ inlineData: inline });
        break;
      }
      default:
        throw new InvalidRequestError(
          `Invalid content part type at '${at}': expected text, image_url, input_audio or file.`,
          `${at}.type`,
        );
    }
  }
  return parts;
}

async function inlineOf(url: string, param: string, resolveUrl: UrlResolver): Promise<InlineData> {
  if (url.startsWith('data:')) {
    const inline = parseDataUri(url);
    if (!inline) throw new InvalidRequestError(`'${param}' is not a base64 data URI.`, param);
    return inline;
  }
  if (/^https?:\/\//i.test(url)) return resolveUrl(url, param);
  throw new InvalidRequestError(`'${param}' must be a data URI or an http(s) URL.`, param);
}

function assistantParts(m: Json, param: string, callNames: Map<string, string>): Json[] {
  const parts: Json[] = [];
  const text = textOf(m['content'], `${param}.content`);
  if (text) parts.push({ text });
  const calls = m['tool_calls'];
  if (calls === undefined || calls === null) return parts;
  if (!Array.isArray(calls))
    throw new InvalidRequestError(`'${param}.tool_calls' must be an array.`, `${param}.tool_calls`);
  calls.forEach((tc: Json, k: number) => {
    const at = `${param}.tool_calls[${k}]`;
    const name = tc?.['function']?.['name'];
    if (typeof name !== 'string' || name === '')
      throw new InvalidRequestError(`'${at}.function.name' is required.`, `${at}.function.name`);
    const args = parseArguments(tc['function']['arguments'], `${at}.function.arguments`);
    const id = typeof tc['id'] === 'string' && tc['id'] ? tc['id'] : undefined;
    if (id) callNames.set(id, name);
    const part: Json = { functionCall: id ? { id, name, args } : { name, args } };
    const signature = tc['extra_content']?.['google']?.['thought_signature'];
    if (typeof signature === 'string' && signature) part['thoughtSignature'] = signature;
    parts.push(part);
  });
  return parts;
}

function parseArguments(raw: unknown, param: string): Json {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw === 'object' && !Array.isArray(raw)) return raw as Json;
  if (typeof raw === 'string') {
    try {
      const v = JSON.parse(raw) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Json;
    } catch {
      // below
    }
  }
  throw new InvalidRequestError(`'${param}' must be a JSON object encoded as a string.`, param);
}

function toolResult(m: Json, param: string, callNames: Map<string, string>): Json {
  const text = textOf(m['content'], `${param}.content`);
  let response: Json = { result: text };
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) response = v as Json;
  } catch {
    // plain text result
  }
  if (m['role'] === 'function') {
    if (typeof m['name'] !== 'string') throw new InvalidRequestError(`'${param}.name' is required.`, `${param}.name`);
    return { functionResponse: { name: m['name'], response } };
  }
  const id = m['tool_call_id'];
  if (typeof id !== 'string' || id === '')
    throw new InvalidRequestError(`'${param}.tool_call_id' is required.`, `${param}.tool_call_id`);
  const name = callNames.get(id);
  if (!name) {
    throw new InvalidRequestError(
      `'${param}.tool_call_id' (${id}) does not answer any tool call of an earlier assistant message.`,
      `${param}.tool_call_id`,
    );
  }
  return { functionResponse: { id, name, response } };
}
