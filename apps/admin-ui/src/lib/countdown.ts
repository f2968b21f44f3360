/** "0:42", "12:05", "1:02:09", "3 d 4 h": the time left until `until`, or null once it passed. */
export function countdown(until: string | number | null | undefined, now: number): string | null {
  if (until === null || until === undefined) return null;
  const end = typeof until === 'number' ? until : new Date(until).getTime();
  const left = Math.ceil((end - now) / 1000);
  if (!(left > 0)) return null;
  const d = Math.floor(left / 86_400);
  const h = Math.floor((left % 86_400) / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  if (d > 0) return `${d} d ${h} h`;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}
