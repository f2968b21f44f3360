import { parseUsage, UsageTail } from './usage-tail';

describe('UsageTail', () => {
  it('reads the last, cumulative usageMetadata of an SSE stream split across chunks', () => {
    const t = new UsageTail();
    const ev = (p: number, c: number, th?: number) =>
      `data: {"candidates": [],"usageMetadata": {"promptTokenCount": ${p},"candidatesTokenCount": ${c}${th ? `,"thoughtsTokenCount": ${th}` : ''},"totalTokenCount": 1}}\r\n\r\n`;
    const all = ev(11, 1, 33) + ev(11, 5, 33) + 'x'.repeat(20_000) + ev(11, 9, 40);
    for (let i = 0; i < all.length; i += 700) t.push(Buffer.from(all.slice(i, i + 700), 'latin1'));
    expect(t.tokens()).toEqual({ promptTokens: 11, outputTokens: 49 });
  });

  it('reads pretty-printed unary answers and omitted counters', () => {
    expect(parseUsage('{\n  "usageMetadata": {\n    "promptTokenCount": 4,\n    "totalTokenCount": 4\n  }\n}')).toEqual(
      { promptTokens: 4, outputTokens: 0 },
    );
    expect(parseUsage('{"embedding": {"values": [1]}}')).toEqual({ promptTokens: 0, outputTokens: 0 });
  });
});
