/**
 * The network an address belongs to for quotas and fairness: one host
 * mints peer ids for free, but not networks. An IPv4 /24 or IPv6 /48, as
 * BEP 40 masks addresses and as the xfer server's per-network stream
 * quotas count them.
 */
import { addressScope, formatIpAddress, prefixRange } from './ip-address.js'
import { ipOfMultiaddr } from './public-address.js'

/**
 * The /24 or /48 of a multiaddr's IP (`/ip4/1.2.3.4/tcp/1` -> `1.2.3.0/24`);
 * null when it has no IP, or a local one (loopback, private, link-local)
 * and `exemptLocal`.
 */
export function sourceNetworkOf (addr: string, exemptLocal: boolean): string | null {
  // Remembered per address, once per process: a DHT member classifies the same providers' addresses again and
  // again (every provider record), and a simulated world of many members shares the one table.
  const memo = exemptLocal ? memoExempt : memoAll
  let n = memo.get(addr)
  if (n === undefined) {
    n = networkOf(addr, exemptLocal)
    if (memo.size >= MAX_MEMO_ADDRESSES) memo.clear()
    memo.set(addr, n)
  }
  return n
}

/** Addresses remembered before the memo starts over. */
const MAX_MEMO_ADDRESSES = 16_384
const memoExempt = new Map<string, string | null>()
const memoAll = new Map<string, string | null>()

function networkOf (addr: string, exemptLocal: boolean): string | null {
  const ip = ipOfMultiaddr(addr)
  if (ip === undefined) return null
  if (exemptLocal && addressScope(ip) !== 'public') return null
  const bits = ip.family === 4 ? 24 : 48
  return `${formatIpAddress(prefixRange(ip, bits).first)}/${bits}`
}
