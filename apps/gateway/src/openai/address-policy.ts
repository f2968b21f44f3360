import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The SSRF guard for client-given image URLs. Range data comes from `ipaddr.js` (IANA special-purpose registries):
 * an address is allowed only when its range is `unicast`, i.e. none of private, loopback, link-local, CGNAT,
 * multicast, broadcast, unspecified, reserved, documentation, benchmarking, AS112, AMT, unique-local, site-local,
 * discard, ORCHID, 6to4, Teredo, IPv4-translated (RFC 6145) or local-use NAT64.
 *
 * Addresses that carry an IPv4 address are judged by it: IPv4-mapped (`::ffff:a.b.c.d`, via `ipaddr.process`) and
 * well-known-prefix NAT64 (`64:ff9b::/96`, RFC 6052). 6to4 and Teredo, which embed an IPv4 too, are refused whole.
 * Deprecated IPv4-compatible addresses (`::a.b.c.d`, `::/96` other than `::` and `::1`) are refused whole.
 */
export function isPublicAddress(ip: string): boolean {
  // `net.isIP` first: ipaddr.js also accepts non-canonical IPv4 forms ("127.1", "0x7f.0.0.1") that DNS never yields.
  if (isIP(ip) === 0) return false;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(ip.includes(':') ? hexTail(ip) : ip);
  } catch {
    return false;
  }
  if (addr.kind() === 'ipv4') return addr.range() === 'unicast';
  const v6 = addr as ipaddr.IPv6;
  const range = v6.range();
  if (range === 'rfc6052' && v6.match(NAT64_WELL_KNOWN)) return embeddedIpv4(v6).range() === 'unicast';
  if (range !== 'unicast') return false;
  return !v6.match(IPV4_COMPATIBLE);
}

const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96') as [ipaddr.IPv6, number];
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96') as [ipaddr.IPv6, number];

/**
 * `::a.b.c.d` written as `::xxxx:xxxx`: ipaddr.js reads any dotted IPv6 tail as IPv4-mapped (`::ffff:a.b.c.d`), which
 * would let a deprecated IPv4-compatible address pass as its IPv4. `net.isIP` has already validated the text.
 */
function hexTail(ip: string): string {
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!dotted) return ip;
  const [a, b, c, d] = dotted.slice(1).map(Number);
  return `${ip.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/** The IPv4 address in the last 32 bits of an IPv6 address. */
function embeddedIpv4(addr: ipaddr.IPv6): ipaddr.IPv4 {
  const [high, low] = addr.parts.slice(-2);
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}
