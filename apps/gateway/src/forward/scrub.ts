/** Pool keys and user keys never reach the request log, even inside an error text that echoes one. */
export function scrubSecrets(text: string): string {
  return text.replace(/AIza[0-9A-Za-z_-]{20,}/g, 'AIza…').replace(/gg1?-[0-9A-Za-z_-]{20,}/g, 'gg-…');
}
