/**
 * Contacts (a peer's DHT key, libp2p peer id and multiaddrs) and the
 * network region an address belongs to, used to cap how many contacts one
 * network may place in a routing table or a lookup (Sybil/eclipse defence,
 * as in S/Kademlia and the libp2p kad-dht IP diversity filter).
 *
 * Rules: a contact's region is the region of its first IP address. By
 * default a region is an IPv4 /16 or an IPv6 /32; loopback, private,
 * link-local and shared (CGNAT) addresses have no region (null) and are
 * exempt from every limit, so local networks and tests work. An AS-based
 * `RegionOf` (from the proximity module) can be injected instead.
 */
import type { Key } from '../ids.js'

/** A DHT participant: its 32-byte key (SHA-256 of the peer id bytes), peer id string and multiaddrs. */
export interface Contact {
  id: Key
  peerId: string
  addrs: string[]
  /**
   * Set when the peer declared itself an origin seeder (its own claim, not
   * verified: content is verified piece by piece anyway). Carried along
   * unchanged by the machines that store contacts.
   */
  origin?: boolean
}

/** Maps a contact to its network region label, or null when it is exempt from diversity limits. */
export type RegionOf = (contact: Contact) => string | null

/** First IP address found in a multiaddr list (`/ip4/1.2.3.4/tcp/1`, `/ip6/::1/...`), or undefined. */
export function firstIpOf (addrs: readonly string[]): { family: 4 | 6, ip: string } | undefined {
  for (const addr of addrs) {
    const m = /^\/ip([46])\/([^/]+)/.exec(addr)
    if (m != null) return { family: m[1] === '4' ? 4 : 6, ip: m[2] }
  }
  return undefined
}

function ipv4Octets (ip: string): number[] | undefined {
  const parts = ip.split('.')
  if (parts.length !== 4) return undefined
  const out = parts.map(p => Number(p))
  return out.every(n => Number.isInteger(n) && n >= 0 && n <= 255) ? out : undefined
}

/** True for loopback, RFC 1918 private, link-local, CGNAT and unspecified IPv4 addresses. */
export function isExemptIpv4 (ip: string): boolean {
  const o = ipv4Octets(ip)
  if (o == null) return true
  const [a, b] = o
  return a === 127 || a === 10 || a === 0 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    (a === 100 && b >= 64 && b <= 127)
}

/** Expands an IPv6 text address into eight 16-bit groups, or undefined when malformed. */
export function ipv6Groups (ip: string): number[] | undefined {
  const zoneless = ip.split('%')[0]
  const halves = zoneless.split('::')
  if (halves.length > 2) return undefined
  const parse = (s: string): number[] => s === '' ? [] : s.split(':').map(g => parseInt(g, 16))
  const head = parse(halves[0])
  const tail = halves.length === 2 ? parse(halves[1]) : []
  const fill = 8 - head.length - tail.length
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined
  const groups = [...head, ...new Array(fill).fill(0), ...tail]
  return groups.every(g => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined
}

/** True for ::1, ::, unique-local (fc00::/7) and link-local (fe80::/10) IPv6 addresses. */
export function isExemptIpv6 (ip: string): boolean {
  const g = ipv6Groups(ip)
  if (g == null) return true
  if (g.slice(0, 7).every(x => x === 0) && (g[7] === 1 || g[7] === 0)) return true
  return (g[0] & 0xfe00) === 0xfc00 || (g[0] & 0xffc0) === 0xfe80
}

/** Default region: the IPv4 /16 or IPv6 /32 of the contact's first address; null (exempt) for local ones. */
export const prefixRegionOf: RegionOf = (contact) => {
  const ip = firstIpOf(contact.addrs)
  if (ip == null) return null
  if (ip.family === 4) {
    if (isExemptIpv4(ip.ip)) return null
    const o = ipv4Octets(ip.ip) as number[]
    return `v4:${o[0]}.${o[1]}`
  }
  if (isExemptIpv6(ip.ip)) return null
  const g = ipv6Groups(ip.ip) as number[]
  return `v6:${g[0].toString(16)}:${g[1].toString(16)}`
}

/**
 * Keeps at most `maxPerRegion` contacts of each region from `contacts`, in
 * order; contacts whose region is null are always kept.
 */
export function capPerRegion (contacts: readonly Contact[], regionOf: RegionOf, maxPerRegion: number): Contact[] {
  const seen = new Map<string, number>()
  const out: Contact[] = []
  for (const c of contacts) {
    const r = regionOf(c)
    if (r != null) {
      const n = seen.get(r) ?? 0
      if (n >= maxPerRegion) continue
      seen.set(r, n + 1)
    }
    out.push(c)
  }
  return out
}
