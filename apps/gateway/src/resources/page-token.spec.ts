import { decodePageToken, encodePageToken, pageSizeOf } from './page-token';

describe('gateway page tokens', () => {
  it('round-trip a position, for the kind they were made for only', () => {
    const t = encodePageToken('file', { score: 1700000000123, name: 'files/abc' });
    expect(decodePageToken(t, 'file')).toEqual({ score: 1700000000123, name: 'files/abc' });
    expect(decodePageToken(t, 'batch')).toBeNull();
    expect(decodePageToken('CgZmaWxlcy8', 'file')).toBeNull(); // an upstream token is not ours
    expect(decodePageToken('gg1.!!!', 'file')).toBeNull();
  });

  it('read pageSize as Google does', () => {
    expect(pageSizeOf(null, 10)).toBe(10);
    expect(pageSizeOf('0', 10)).toBe(10);
    expect(pageSizeOf('-3', 10)).toBe(10);
    expect(pageSizeOf('7', 10)).toBe(7);
    expect(pageSizeOf('5000', 10)).toBe(100);
  });
});
