/**
 * Picks the address a peer believes is its own public one, from what others
 * report (libp2p identify's observed multiaddrs) or an explicit override.
 *
 * Rules: an override (`--public-ip`) wins outright. Otherwise only /ip4 and
 * /ip6 multiaddrs count (relay "p2p-circuit" addresses are the relay's);
 * unspecified addresses never count. A public address beats a private one,
 * which beats loopback, which beats link-local; within the best class the
 * address reported most often wins, and a tie goes to the one reported first.
 */
import { type AddressScope, type IpAddress, addressScope, formatIpAddress, parseIpAddress, tryParseIpAddress } from './ip-address.js'

/** Options for pickPublicAddress. */
export interface PublicAddressInit {
  /** Configured public IP (e.g. `--public-ip`); used as is when set. Throws IpAddressFormatError if malformed. */
  overrideIp?: string
}

/** Most observations considered, so a flood of reports stays cheap. */
export const MAX_OBSERVED_ADDRESSES = 1024

const SCOPE_RANK: Record<AddressScope, number> = { public: 0, private: 1, loopback: 2, 'link-local': 3, unspecified: 99 }

/** The IP address in a multiaddr string such as "/ip4/1.2.3.4/tcp/4001", or undefined. */
export function ipOfMultiaddr (multiaddr: string): IpAddress | undefined {
  if (multiaddr.includes('/p2p-circuit')) return undefined
  const parts = multiaddr.split('/')
  if (parts[0] !== '' || (parts[1] !== 'ip4' && parts[1] !== 'ip6') || parts.length < 3) return undefined
  if (parts[1] === 'ip4' && parts[2].includes(':')) return undefined
  return tryParseIpAddress(parts[2])
}

/** Chooses the peer's own public address; undefined when nothing usable was observed. */
export function pickPublicAddress (observedMultiaddrs: readonly string[], init: PublicAddressInit = {}): IpAddress | undefined {
  if (init.overrideIp !== undefined) return parseIpAddress(init.overrideIp)
  const seen = new Map<string, { address: IpAddress, count: number, first: number, rank: number }>()
  const n = Math.min(observedMultiaddrs.length, MAX_OBSERVED_ADDRESSES)
  for (let i = 0; i < n; i++) {
    const address = ipOfMultiaddr(observedMultiaddrs[i])
    if (address === undefined) continue
    const rank = SCOPE_RANK[addressScope(address)]
    if (rank === SCOPE_RANK.unspecified) continue
    const key = formatIpAddress(address)
    const entry = seen.get(key)
    if (entry === undefined) seen.set(key, { address, count: 1, first: i, rank })
    else entry.count++
  }
  let best: { address: IpAddress, count: number, first: number, rank: number } | undefined
  for (const e of seen.values()) {
    if (best === undefined || e.rank < best.rank || (e.rank === best.rank && (e.count > best.count || (e.count === best.count && e.first < best.first)))) best = e
  }
  return best?.address
}

/** What a peer knows about its own address, for chooseSelfAddress. */
export interface SelfAddressInit {
  /** Configured public IP (`--public-ip`): wins outright. */
  overrideIp?: string
  /** Identify's observed multiaddrs (how others see us), oldest first. */
  observedMultiaddrs?: readonly string[]
  /** Our own listen multiaddrs (interface addresses, not 0.0.0.0). */
  listenMultiaddrs?: readonly string[]
}

/**
 * The address a peer ranks others from. Rules: `overrideIp` wins; else the
 * address others observe (pickPublicAddress over the observations), because
 * uploaders rank us by that same address, so both ends then agree on who is
 * near; observations of 127.0.0.1 / ::1 do not count (every loopback dial
 * without a chosen source leaves from there, so they say nothing); else the
 * best of our listen addresses.
 */
export function chooseSelfAddress (init: SelfAddressInit): IpAddress | undefined {
  if (init.overrideIp !== undefined) return parseIpAddress(init.overrideIp)
  const observed = (init.observedMultiaddrs ?? []).filter(a => {
    const ip = ipOfMultiaddr(a)
    return ip !== undefined && !isHostDefaultLoopback(ip)
  })
  return pickPublicAddress(observed) ?? pickPublicAddress(init.listenMultiaddrs ?? [])
}

function isHostDefaultLoopback (ip: IpAddress): boolean {
  const text = formatIpAddress(ip)
  return text === '127.0.0.1' || text === '::1' || text === '::ffff:127.0.0.1'
}
