import { redactSecrets, shortReason } from './sanitize';

describe('sanitize', () => {
  it('redacts Google keys, consumer ids and key query parameters', () => {
    const out = redactSecrets(
      "key AIzaSyA1b2C3d4E5f6G7h8I9j0 consumer 'api_key:abc-123' url https://h/p?alt=sse&key=xyz",
    );
    expect(out).toBe("key [redacted] consumer 'api_key:[redacted]' url https://h/p?alt=sse&key=[redacted]");
  });

  it('makes HTML a short single line', () => {
    expect(shortReason('<html>\n<head><script>var k=1</script></head><body><h1>Bad   Gateway</h1></body></html>')).toBe(
      'Bad Gateway',
    );
    const long = shortReason('x'.repeat(1000));
    expect(long).toHaveLength(160);
    expect(long.endsWith('…')).toBe(true);
  });
});
