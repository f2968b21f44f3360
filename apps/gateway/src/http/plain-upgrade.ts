import type { IncomingMessage } from 'node:http';

const DROPPED = /^(upgrade|http2-settings)$/i;

/**
 * The bytes of a request that asked to upgrade to anything but a WebSocket (`curl --http2` on http:// sends
 * `Upgrade: h2c` with an ordinary request), rebuilt without its upgrade headers, followed by what was already read
 * after its head. Node hands every request with `Upgrade` to the server's `upgrade` listener once there is one; the
 * gateway ignores such an upgrade, as RFC 9110 §7.8 allows, by feeding these bytes back to the HTTP server as a new
 * connection: the request is then served as it would have been without the `upgrade` listener.
 */
export function plainRequestBytes(req: IncomingMessage, head: Buffer): Buffer {
  let raw = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}\r\n`;
  const h = req.rawHeaders;
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = h[i];
    if (DROPPED.test(name)) continue;
    let value = h[i + 1];
    if (name.toLowerCase() === 'connection') {
      value = value
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '' && !DROPPED.test(t))
        .join(', ');
      if (value === '') continue;
    }
    raw += `${name}: ${value}\r\n`;
  }
  return Buffer.concat([Buffer.from(`${raw}\r\n`, 'latin1'), head]);
}
