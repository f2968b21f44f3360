import { randomBytes } from 'node:crypto';
import type { Json } from './chat-messages';

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  completion_tokens_details: { reasoning_tokens: number };
  prompt_tokens_details: { cached_tokens: number };
}

export interface OpenAiToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
  /** Gemini's thought signature travels here (Google's compat convention) and must come back next turn */
  extra_content?: { google: { thought_signature: string } };
}

const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/** Gemini finishReason → OpenAI finish_reason; any function call makes it `tool_calls` (Gemini says STOP). */
export function mapFinishReason(reason: string | undefined, sawToolCall: boolean): string {
  if (sawToolCall) return 'tool_calls';
  if (reason === 'MAX_TOKENS') return 'length';
  if (reason && FILTERED.has(reason)) return 'content_filter';
  return 'stop';
}

/** usageMetadata → OpenAI usage; completion tokens include thinking tokens, so prompt + completion = total. */
export function mapUsage(u: Json | undefined): OpenAiUsage {
  const prompt = (u?.['promptTokenCount'] ?? 0) + (u?.['toolUsePromptTokenCount'] ?? 0);
  const thoughts = u?.['thoughtsTokenCount'] ?? 0;
  const completion = (u?.['candidatesTokenCount'] ?? 0) + thoughts;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: u?.['totalTokenCount'] ?? prompt + completion,
    completion_tokens_details: { reasoning_tokens: thoughts },
    prompt_tokens_details: { cached_tokens: u?.['cachedContentTokenCount'] ?? 0 },
  };
}

export function newToolCallId(): string {
  return `call_${randomBytes(12).toString('base64url')}`;
}

export function toolCallOf(part: Json, newId: () => string = newToolCallId): OpenAiToolCall {
  const fc = part['functionCall'] as Json;
  const call: OpenAiToolCall = {
    id: typeof fc['id'] === 'string' && fc['id'] ? fc['id'] : newId(),
    type: 'function',
    function: { name: String(fc['name'] ?? ''), arguments: JSON.stringify(fc['args'] ?? {}) },
  };
  if (typeof part['thoughtSignature'] === 'string')
    call.extra_content = { google: { thought_signature: part['thoughtSignature'] } };
  return call;
}

/** What one candidate (or one stream event of it) says: answer text, thought text, tool calls. */
export interface CandidateDelta {
  text: string;
  reasoning: string;
  toolCalls: OpenAiToolCall[];
}

export function readCandidate(candidate: Json | undefined, newId: () => string = newToolCallId): CandidateDelta {
  const out: CandidateDelta = { text: '', reasoning: '', toolCalls: [] };
  const parts = candidate?.['content']?.['parts'];
  if (!Array.isArray(parts)) return out;
  for (const p of parts as Json[]) {
    if (p?.['functionCall']) out.toolCalls.push(toolCallOf(p, newId));
    else if (typeof p?.['text'] === 'string') {
      if (p['thought'] === true) out.reasoning += p['text'];
      else out.text += p['text'];
    }
  }
  return out;
}

export function completionId(g: Json): string {
  return `chatcmpl-${typeof g['responseId'] === 'string' && g['responseId'] ? g['responseId'] : randomBytes(12).toString('base64url')}`;
}

/** A Gemini generateContent answer as an OpenAI `chat.completion`. */
export function toChatCompletion(
  g: Json,
  model: string,
  nowMs = Date.now(),
  newId: () => string = newToolCallId,
): Json {
  const candidates = Array.isArray(g['candidates']) ? (g['candidates'] as Json[]) : [];
  const choices = candidates.map((c, i) => {
    const d = readCandidate(c, newId);
    const message: Json = { role: 'assistant', content: d.text || (d.toolCalls.length ? null : ''), refusal: null };
    if (d.reasoning) message['reasoning_content'] = d.reasoning;
    if (d.toolCalls.length) message['tool_calls'] = d.toolCalls;
    return {
      index: typeof c['index'] === 'number' ? c['index'] : i,
      message,
      logprobs: null,
      finish_reason: mapFinishReason(c['finishReason'], d.toolCalls.length > 0),
    };
  });
  if (choices.length === 0) {
    // a blocked prompt: HTTP 200, no candidates, promptFeedback.blockReason
    const blocked = Boolean(g['promptFeedback']?.['blockReason']);
    choices.push({
      index: 0,
      message: { role: 'assistant', content: '', refusal: null },
      logprobs: null,
      finish_reason: blocked ? 'content_filter' : 'stop',
    });
  }
  return {
    id: completionId(g),
    object: 'chat.completion',
    created: Math.floor(nowMs / 1000),
    model,
    choices,
    usage: mapUsage(g['usageMetadata']),
  };
}

/** The counted tokens of an answer (the same rule as the native path's usage tail). */
export function countedTokens(u: Json | undefined): { promptTokens: number; outputTokens: number } {
  const usage = mapUsage(u);
  return { promptTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
}
