import { mapMessages, type Json, type UrlResolver } from './chat-messages';
import { InvalidRequestError } from './openai-errors';

/** A chat.completions request mapped to one Gemini generateContent request. */
export interface ChatRequest {
  /** the model id without `models/` */
  model: string;
  stream: boolean;
  includeUsage: boolean;
  /** the generateContent body */
  body: Json;
  /** `extra_body.google.cached_content`, for key affinity */
  cachedContent: string | null;
}

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `gemini-2.5-flash` or `models/gemini-2.5-flash` → `gemini-2.5-flash`; anything that is no model id is refused. */
export function modelId(raw: unknown): string {
  const id = typeof raw === 'string' ? raw.replace(/^models\//, '') : '';
  if (!MODEL_ID.test(id))
    throw new InvalidRequestError("'model' must be a Gemini model id such as gemini-2.5-flash.", 'model');
  return id;
}

/** OpenAI reasoning_effort → thinkingConfig: a budget on 2.x models, a level on Gemini 3 (Google's compat table). */
const BUDGETS: Record<string, number> = { none: 0, minimal: 1024, low: 1024, medium: 8192, high: 24576 };
const LEVELS_FLASH: Record<string, string> = {
  none: 'minimal',
  minimal: 'minimal',
  low: 'low',
  medium: 'medium',
  high: 'high',
};
const LEVELS_PRO: Record<string, string> = { none: 'low', minimal: 'low', low: 'low', medium: 'high', high: 'high' };

export function thinkingFor(model: string, effort: string): Json {
  if (!(effort in BUDGETS)) {
    throw new InvalidRequestError(
      "Invalid value for 'reasoning_effort': expected none, minimal, low, medium or high.",
      'reasoning_effort',
    );
  }
  if (/^gemini-[3-9]/.test(model)) return { thinkingLevel: (/-pro/.test(model) ? LEVELS_PRO : LEVELS_FLASH)[effort] };
  return { thinkingBudget: BUDGETS[effort] };
}

export async function mapChatRequest(raw: unknown, resolveUrl: UrlResolver): Promise<ChatRequest> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new InvalidRequestError('The request body must be a JSON object.');
  const r = raw as Json;
  const model = modelId(r['model']);
  const stream = optional(r, 'stream', 'boolean') ?? false;
  const streamOptions = r['stream_options'] as Json | undefined | null;
  const includeUsage = stream && streamOptions?.['include_usage'] === true;
  const { contents, systemInstruction } = await mapMessages(r['messages'], resolveUrl);
  const body: Json = { contents };
  if (systemInstruction) body['systemInstruction'] = systemInstruction;

  const tools = mapTools(r['tools']);
  if (tools) body['tools'] = tools;
  const toolConfig = mapToolChoice(r['tool_choice']);
  if (toolConfig) body['toolConfig'] = toolConfig;

  const google = ((r['extra_body'] as Json | undefined)?.['google'] ?? r['google']) as Json | undefined;
  const config = generationConfig(r, model, google);
  if (Object.keys(config).length) body['generationConfig'] = config;
  let cachedContent: string | null = null;
  if (google && typeof google === 'object') {
    if (typeof google['cached_content'] === 'string') body['cachedContent'] = cachedContent = google['cached_content'];
    if (Array.isArray(google['safety_settings'])) body['safetySettings'] = google['safety_settings'];
  }
  return { model, stream, includeUsage, body, cachedContent };
}

function generationConfig(r: Json, model: string, google: Json | undefined): Json {
  const c: Json = {};
  set(c, 'temperature', number(r, 'temperature', 0, 2));
  set(c, 'topP', number(r, 'top_p', 0, 1));
  set(c, 'maxOutputTokens', integer(r, 'max_completion_tokens', 1) ?? integer(r, 'max_tokens', 1));
  set(c, 'candidateCount', integer(r, 'n', 1, 8));
  set(c, 'seed', integer(r, 'seed', -(2 ** 31), 2 ** 31 - 1));
  set(c, 'presencePenalty', number(r, 'presence_penalty', -2, 2));
  set(c, 'frequencyPenalty', number(r, 'frequency_penalty', -2, 2));
  const stop = r['stop'];
  if (typeof stop === 'string') c['stopSequences'] = [stop];
  else if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) {
    if (stop.length) c['stopSequences'] = stop;
  } else if (stop !== undefined && stop !== null)
    throw new InvalidRequestError("'stop' must be a string or an array of strings.", 'stop');

  const format = r['response_format'] as Json | undefined | null;
  if (format !== undefined && format !== null) {
    const type = format['type'];
    if (type === 'json_object') c['responseMimeType'] = 'application/json';
    else if (type === 'json_schema') {
      const schema = format['json_schema']?.['schema'];
      if (!schema || typeof schema !== 'object') {
        throw new InvalidRequestError(
          "'response_format.json_schema.schema' must be a JSON Schema object.",
          'response_format.json_schema.schema',
        );
      }
      c['responseMimeType'] = 'application/json';
      c['responseJsonSchema'] = schema;
    } else if (type !== 'text') {
      throw new InvalidRequestError(
        "Invalid value for 'response_format.type': expected text, json_object or json_schema.",
        'response_format.type',
      );
    }
  }

  const effort = optional(r, 'reasoning_effort', 'string');
  const thinking: Json = effort !== undefined ? thinkingFor(model, effort) : {};
  const t = google?.['thinking_config'] as Json | undefined;
  if (t && typeof t === 'object') {
    if (typeof t['thinking_budget'] === 'number') thinking['thinkingBudget'] = t['thinking_budget'];
    if (typeof t['thinking_level'] === 'string') thinking['thinkingLevel'] = t['thinking_level'];
    if (typeof t['include_thoughts'] === 'boolean') thinking['includeThoughts'] = t['include_thoughts'];
  }
  if (Object.keys(thinking).length) c['thinkingConfig'] = thinking;
  return c;
}

export function mapTools(tools: unknown): Json[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw new InvalidRequestError("'tools' must be an array.", 'tools');
  if (tools.length === 0) return undefined;
  const declarations = tools.map((t: Json, i: number) => {
    const f = t?.['function'] as Json | undefined;
    if (t?.['type'] !== 'function' || !f || typeof f['name'] !== 'string' || f['name'] === '') {
      throw new InvalidRequestError(`'tools[${i}]' must be {"type":"function","function":{"name":…}}.`, `tools[${i}]`);
    }
    const d: Json = { name: f['name'] };
    if (typeof f['description'] === 'string') d['description'] = f['description'];
    if (f['parameters'] && typeof f['parameters'] === 'object') d['parametersJsonSchema'] = f['parameters'];
    return d;
  });
  return [{ functionDeclarations: declarations }];
}

const MODES: Record<string, string> = { auto: 'AUTO', none: 'NONE', required: 'ANY' };

export function mapToolChoice(choice: unknown): Json | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (typeof choice === 'string' && MODES[choice]) return { functionCallingConfig: { mode: MODES[choice] } };
  const name = (choice as Json)?.['function']?.['name'];
  if ((choice as Json)?.['type'] === 'function' && typeof name === 'string' && name) {
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } };
  }
  throw new InvalidRequestError(
    'Invalid value for \'tool_choice\': expected auto, none, required or {"type":"function","function":{"name":…}}.',
    'tool_choice',
  );
}

function set(c: Json, key: string, v: unknown): void {
  if (v !== undefined) c[key] = v;
}

function optional<T extends 'string' | 'boolean'>(
  r: Json,
  name: string,
  type: T,
): (T extends 'string' ? string : boolean) | undefined {
  const v = r[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== type) throw new InvalidRequestError(`'${name}' must be a ${type}.`, name);
  return v as T extends 'string' ? string : boolean;
}

function number(r: Json, name: string, min: number, max: number): number | undefined {
  const v = r[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new InvalidRequestError(`'${name}' must be a number between ${min} and ${max}.`, name);
  }
  return v;
}

function integer(r: Json, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = r[name];
  if (v === undefined || v === null) return undefined;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
    throw new InvalidRequestError(`'${name}' must be an integer between ${min} and ${max}.`, name);
  }
  return v as number;
}
