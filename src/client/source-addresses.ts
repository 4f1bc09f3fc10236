/**
 * Multiaddr text of a download's sources: which address names a source,
 * and a peer id added to or taken from an address.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { ipOfMultiaddr } from '../core/proximity/public-address.js'
import { addressScope } from '../core/proximity/ip-address.js'

/** `addr` without its /p2p/ part (and what follows). */
export function withoutPeerId (addr: string): string {
  const at = addr.indexOf('/p2p/')
  return at >= 0 ? addr.slice(0, at) : addr
}

/** The address that names a source: its first public direct address, else its first relayed one over a public relay address (a peer behind a NAT), else its first non-loopback one, else its first. */
export function sourceLabel (addrs: readonly string[]): string {
  const scope = (a: string): string | undefined => { const ip = ipOfMultiaddr(a.replace(/\/p2p\/.*$/, '')); return ip === undefined ? undefined : addressScope(ip) }
  return addrs.find(a => !a.includes('/p2p-circuit') && scope(a) === 'public') ??
    addrs.find(a => a.includes('/p2p-circuit') && scope(a) === 'public') ??
    addrs.find(a => scope(a) !== 'loopback') ?? addrs[0]
}

/** `addr` ending in /p2p/`peerId` (a relayed address keeps its relay's id before /p2p-circuit). */
export function withPeerId (addr: string, peerId: string): string {
  // A relayed address names the relay's id before /p2p-circuit: the peer's own id still follows.
  return /\/p2p\/[^/]+$/.test(addr) ? addr : `${addr}/p2p/${peerId}`
}

/** The peer id of the last /p2p/ part of `addr`, or undefined. */
export function peerIdOf (addr: string): string | undefined {
  try { return multiaddr(addr).getComponents().findLast(c => c.name === 'p2p')?.value } catch { return undefined }
}
