import { namedInAnswer } from './answer-names';

const HOSTS = ['generativelanguage.googleapis.com'];
const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('namedInAnswer', () => {
  it('takes a file with its size and expiry from an upload answer', () => {
    const answer = {
      file: {
        name: 'files/abc',
        sizeBytes: '42',
        expirationTime: '2026-01-03T00:00:00Z',
        uri: 'https://generativelanguage.googleapis.com/v1beta/files/abc',
      },
    };
    expect(namedInAnswer(JSON.stringify(answer), NOW, HOSTS)).toEqual([
      { name: 'files/abc', kind: 'file', sizeBytes: 42, expiresAt: Date.parse('2026-01-03T00:00:00Z') },
    ]);
  });

  it('takes a cached content expiry, a batch and its result file, a tuned model from its operation', () => {
    expect(
      namedInAnswer(JSON.stringify({ name: 'cachedContents/c', expireTime: '2026-01-01T01:00:00Z' }), NOW, HOSTS)[0],
    ).toMatchObject({
      kind: 'cachedContent',
      expiresAt: Date.parse('2026-01-01T01:00:00Z'),
    });
    const batch = { name: 'batches/b1', metadata: { model: 'models/m', output: { responsesFile: 'files/out1' } } };
    expect(namedInAnswer(JSON.stringify(batch), NOW, HOSTS).map((n) => [n.name, n.kind])).toEqual([
      ['batches/b1', 'batch'],
      ['files/out1', 'file'],
    ]);
    expect(namedInAnswer(JSON.stringify(batch), NOW, HOSTS)[1].expiresAt).toBe(NOW + 48 * 3600_000);
    const tuning = { name: 'tunedModels/t1/operations/o1', metadata: { tunedModel: 'tunedModels/t1' } };
    expect(namedInAnswer(JSON.stringify(tuning), NOW, HOSTS)).toEqual([
      { name: 'tunedModels/t1', kind: 'tunedModel', sizeBytes: null, expiresAt: 0 },
    ]);
  });

  it('reads a truncated answer loosely', () => {
    expect(
      namedInAnswer('{"name": "batches/b2", "metadata": {"output": {"responsesFile": "files/o2", "inl', NOW, HOSTS).map(
        (n) => n.name,
      ),
    ).toEqual(['batches/b2', 'files/o2']);
  });

  it('ignores models and other names it does not own', () => {
    expect(namedInAnswer(JSON.stringify({ name: 'models/gemini-2.5-flash' }), NOW, HOSTS)).toEqual([]);
  });
});
