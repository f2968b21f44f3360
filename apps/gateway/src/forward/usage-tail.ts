/**
 * Reads token counts from the end of a response without buffering it: keeps the last few KB of the bytes
 * relayed and finds the last `usageMetadata` counters there (cumulative in a stream, so the last one counts).
 *
 * Deliberately not an SSE or JSON parser (no `eventsource-parser` here): it sits on the native relay's hot path,
 * which passes Gemini's bytes through untouched; per chunk it only keeps a reference, and it scans 8 KB of text
 * once when the response ends. It reads SSE and the non-SSE JSON-array stream alike.
 */
const TAIL_BYTES = 8192;

export class UsageTail {
  private chunks: Buffer[] = [];
  private bytes = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.chunks.length > 1 && this.bytes - this.chunks[0].length >= TAIL_BYTES) {
      this.bytes -= this.chunks[0].length;
      this.chunks.shift();
    }
  }

  text(): string {
    const buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    return buf.subarray(Math.max(0, buf.length - TAIL_BYTES)).toString('latin1');
  }

  /** prompt and output (candidates + thoughts) tokens of the last usageMetadata, or zeros */
  tokens(): { promptTokens: number; outputTokens: number } {
    return parseUsage(this.text());
  }
}

export function parseUsage(text: string): { promptTokens: number; outputTokens: number } {
  const at = text.lastIndexOf('"usageMetadata"');
  if (at === -1) return { promptTokens: 0, outputTokens: 0 };
  const end = text.indexOf('}', at);
  const part = text.slice(at, end === -1 ? undefined : end);
  return {
    promptTokens: num(part, PROMPT) + num(part, TOOL_PROMPT),
    outputTokens: num(part, CANDIDATES) + num(part, THOUGHTS),
  };
}

const field = (name: string): RegExp => new RegExp(`"${name}"\\s*:\\s*(\\d+)`);
const PROMPT = field('promptTokenCount');
const TOOL_PROMPT = field('toolUsePromptTokenCount');
const CANDIDATES = field('candidatesTokenCount');
const THOUGHTS = field('thoughtsTokenCount');

function num(text: string, re: RegExp): number {
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
}
