/**
 * Contacts and places as the overlay's libp2p shell builds them: contacts
 * from multiaddrs and frames, and where a contact or this node is for
 * ranking (the prefix table over the first IP address; this node's own
 * place from `--public-ip`, else a public identify-observed address, else
 * its listen address).
 */
import { multiaddr } from '@multiformats/multiaddr'
import { keyOfPeerId } from './dht-codec.js'
import type { Contact } from '../core/dht/contact.js'
import { MAX_ADDRS_PER_CONTACT } from '../core/messages/dht-messages.js'
import type { AsnResolver } from '../core/proximity/asn-resolver.js'
import { peerTieKey, type PeerPlace } from '../core/proximity/peer-ranking.js'
import { ipOfMultiaddr, pickPublicAddress } from '../core/proximity/public-address.js'
import { addressScope, type IpAddress } from '../core/proximity/ip-address.js'
import type { OverlayRole } from '../core/tier/supernode-policy.js'

/** Observed addresses kept from identify for pickPublicAddress. */
export const MAX_OBSERVED = 64

/** The address without its trailing /p2p/PEER_ID. */
export function stripP2p (addr: string): string { return addr.replace(/\/p2p\/[^/]+$/, '') }

/** Parses a bootstrap multiaddr (must end in /p2p/PEER_ID) into a contact. */
export function contactOfMultiaddr (addr: string): Contact {
  const ma = multiaddr(addr)
  const peerId = ma.getComponents().findLast(c => c.name === 'p2p')?.value
  if (peerId == null) throw new TypeError(`bootstrap address needs /p2p/PEER_ID: ${addr}`)
  return { id: keyOfPeerId(peerId), peerId, addrs: [stripP2p(addr)] }
}

/** A contact as a frame describes its sender; a seeder's is an origin. */
export function contactOf (peerId: string, addrs: readonly string[], role: OverlayRole): Contact {
  const c: Contact = { id: keyOfPeerId(peerId), peerId, addrs: addrs.map(stripP2p).slice(0, MAX_ADDRS_PER_CONTACT) }
  if (role === 'seeder') c.origin = true
  return c
}

/** Where contacts and this node are, for ranking. */
export class OverlayPlaces {
  private readonly observed: string[] = []

  constructor (private readonly resolver: AsnResolver, private readonly publicIp: string | undefined) {}

  /** identify saw us at `addr` (kept: the last MAX_OBSERVED). */
  noteObserved (addr: string): void {
    this.observed.push(addr)
    if (this.observed.length > MAX_OBSERVED) this.observed.shift()
  }

  /** A contact's place: its first IP address and that address's AS. */
  placeOf (c: Contact): PeerPlace {
    const address = addressOf(c)
    return { address, asn: this.resolver.asnOf(address), tieKey: peerTieKey(c.id, address) }
  }

  /** This node's place; observed addresses win only when public (learned through a NAT): on loopback every outbound dial comes from 127.0.0.1. */
  selfPlace (self: Contact): PeerPlace {
    let address: IpAddress | undefined
    if (this.publicIp != null) address = pickPublicAddress([], { overrideIp: this.publicIp })
    else {
      const observed = pickPublicAddress(this.observed)
      address = observed != null && addressScope(observed) === 'public' ? observed : undefined
      address ??= pickPublicAddress(self.addrs) ?? observed
    }
    return { address, asn: this.resolver.asnOf(address), tieKey: peerTieKey(self.id, address) }
  }
}

function addressOf (c: Contact): IpAddress | undefined {
  for (const a of c.addrs) { const ip = ipOfMultiaddr(a); if (ip != null) return ip }
  return undefined
}
