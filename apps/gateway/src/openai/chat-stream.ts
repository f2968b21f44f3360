import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceParser } from 'eventsource-parser';
import type { Json } from './chat-messages';
import { completionId, mapFinishReason, mapUsage, newToolCallId, readCandidate } from './chat-response';
import type { OpenAiErrorBody } from './openai-errors';

/**
 * Splits Gemini's SSE bytes into event payloads as they arrive (`eventsource-parser`: every SSE line ending, BOM,
 * comments, multi-line `data:`; `event:`/`id:` are parsed but Gemini sends neither, so only `data` is passed on).
 * Google writes a mid-stream error as a bare JSON line (`{"error": …}` without `data: `): the parser reports it as an
 * unknown field, and such a line is passed on as a payload of its own.
 */
export class SseEventParser {
  private readonly decoder = new StringDecoder('utf8');
  private out: string[] = [];
  private readonly parser: EventSourceParser = createParser({
    onEvent: (e) => this.out.push(e.data),
    onError: (err) => {
      const line = err.type === 'unknown-field' ? err.line : undefined;
      if (line && (line.startsWith('{') || line.startsWith('['))) this.out.push(line);
    },
  });

  push(chunk: Buffer): string[] {
    this.parser.feed(this.decoder.write(chunk));
    return this.take();
  }

  /** The upstream ended: an event not closed by a blank line still counts. */
  end(): string[] {
    this.parser.feed(this.decoder.end() + '\n\n');
    return this.take();
  }

  private take(): string[] {
    if (this.out.length === 0) return [];
    const out = this.out;
    this.out = [];
    return out;
  }
}

interface ChoiceState {
  started: boolean;
  tools: number;
  sawToolCall: boolean;
  finished: boolean;
}

/**
 * Gemini stream events → OpenAI `chat.completion.chunk` SSE text, one call per event so nothing is held back:
 * the role first, then text / reasoning / tool-call deltas (each tool call complete, with a stream-wide `index`
 * and its thought signature in `extra_content`), the finish reason (`tool_calls` whenever a call was seen, even
 * when Gemini's STOP comes in a later event), the usage chunk if asked, and `[DONE]`.
 */
export class ChatStreamTranslator {
  private id: string | null = null;
  private readonly created: number;
  private readonly choices = new Map<number, ChoiceState>();
  private usage: Json | undefined;

  constructor(
    private readonly model: string,
    private readonly includeUsage: boolean,
    nowMs = Date.now(),
    private readonly newId: () => string = newToolCallId,
  ) {
    this.created = Math.floor(nowMs / 1000);
  }

  /** The last usageMetadata seen (it is cumulative). */
  get lastUsage(): Json | undefined {
    return this.usage;
  }

  event(g: Json): string {
    if (this.id === null) this.id = completionId(g);
    if (g['usageMetadata']) this.usage = g['usageMetadata'] as Json;
    const candidates = Array.isArray(g['candidates']) ? (g['candidates'] as Json[]) : [];
    let out = '';
    if (candidates.length === 0 && g['promptFeedback']?.['blockReason']) {
      const st = this.state(0);
      if (!st.started) out += this.start(0, st, {});
      if (!st.finished) out += this.finishChunk(0, st, 'content_filter');
    }
    candidates.forEach((c, i) => {
      const index = typeof c['index'] === 'number' ? c['index'] : i;
      const st = this.state(index);
      const d = readCandidate(c, this.newId);
      const delta: Json = {};
      if (d.reasoning) delta['reasoning_content'] = d.reasoning;
      if (d.text) delta['content'] = d.text;
      if (d.toolCalls.length) {
        st.sawToolCall = true;
        delta['tool_calls'] = d.toolCalls.map((tc) => ({ index: st.tools++, ...tc }));
      }
      if (!st.started) out += this.start(index, st, delta);
      else if (Object.keys(delta).length) out += this.chunk([{ index, delta, logprobs: null, finish_reason: null }]);
      if (c['finishReason'] && !st.finished)
        out += this.finishChunk(index, st, mapFinishReason(c['finishReason'], st.sawToolCall));
    });
    return out;
  }

  /** The upstream ended: close open choices, the usage chunk if asked, `[DONE]`. */
  end(): string {
    let out = '';
    if (this.choices.size === 0) out += this.start(0, this.state(0), {});
    for (const [index, st] of this.choices)
      if (!st.finished) out += this.finishChunk(index, st, mapFinishReason(undefined, st.sawToolCall));
    if (this.includeUsage) out += this.chunk([], mapUsage(this.usage));
    return out + 'data: [DONE]\n\n';
  }

  /** An error after the stream started: the openai SDK throws on a chunk with an `error` key. */
  error(body: OpenAiErrorBody): string {
    return `data: ${JSON.stringify(body)}\n\n`;
  }

  private state(index: number): ChoiceState {
    let st = this.choices.get(index);
    if (!st) this.choices.set(index, (st = { started: false, tools: 0, sawToolCall: false, finished: false }));
    return st;
  }

  private start(index: number, st: ChoiceState, delta: Json): string {
    st.started = true;
    const first = { role: 'assistant', content: delta['content'] ?? '', ...delta };
    return this.chunk([{ index, delta: first, logprobs: null, finish_reason: null }]);
  }

  private finishChunk(index: number, st: ChoiceState, reason: string): string {
    st.finished = true;
    return this.chunk([{ index, delta: {}, logprobs: null, finish_reason: reason }]);
  }

  private chunk(choices: Json[], usage?: Json): string {
    const c: Json = {
      id: this.id ?? completionId({}),
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices,
    };
    if (this.id === null) this.id = c['id'];
    if (usage) c['usage'] = usage;
    else if (this.includeUsage) c['usage'] = null;
    return `data: ${JSON.stringify(c)}\n\n`;
  }
}
