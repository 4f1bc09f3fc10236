/**
 * Ranks libp2p peers (peer id + multiaddr) for this node with the one
 * ranking function, rankPeers: same AS, then shared prefix, then RTT, then
 * the per-pair tie-break. Used by the downloader to order providers and by
 * the upload gate to order requesters.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { rankPeers, peerTieKey, type PeerPlace, type RankCandidate } from '../core/proximity/peer-ranking.js'
import { tryParseIpAddress, type IpAddress } from '../core/proximity/ip-address.js'
import { AsnResolver } from '../core/proximity/asn-resolver.js'
import { classifyLocality, type LocalityClass } from '../core/proximity/locality.js'
import type { AltoCosts } from '../core/proximity/alto-map.js'

/** Options for ProximityRanker. */
export interface ProximityRankerInit {
  /** Address → AS lookups. Default: an empty table (AS unknown; shared prefix still ranks). */
  resolver?: AsnResolver
  /** This node's public address (text). Default: unknown. */
  selfAddress?: string
  /** This node's peer id. */
  selfPeerId: string
  /** Rank by AS and shared prefix; false keeps only the tie-break (for comparison runs). Default true. */
  proximity?: boolean
  /** An ISP's ALTO network and cost maps: among peers of equal AS/prefix nearness, lower cost first. Default none. */
  alto?: AltoCosts
}

/** The IP address in a multiaddr's first ip4/ip6 component, or undefined. */
export function ipOfMultiaddr (addr: string): IpAddress | undefined {
  try {
    for (const c of multiaddr(addr).getComponents()) {
      if ((c.name === 'ip4' || c.name === 'ip6') && c.value != null) return tryParseIpAddress(c.value)
    }
  } catch {}
  return undefined
}

const encoder = new TextEncoder()

/** Orders peers nearest to this node first (see the file's comment). */
export class ProximityRanker {
  /** This node's place; follows setSelfAddress. */
  self: PeerPlace
  readonly resolver: AsnResolver
  readonly proximity: boolean
  readonly alto: AltoCosts | undefined
  private readonly selfPeerId: string

  /** A ranker for the node `init.selfPeerId` at `init.selfAddress`. */
  constructor (init: ProximityRankerInit) {
    this.resolver = init.resolver ?? new AsnResolver()
    this.proximity = init.proximity !== false
    this.alto = init.alto
    this.selfPeerId = init.selfPeerId
    this.self = this.placeAt(init.selfAddress)
  }

  /** Moves this node to `address` (text; undefined: unknown), e.g. once identify tells how others see it. */
  setSelfAddress (address: string | undefined): void {
    this.self = this.placeAt(address)
  }

  private placeAt (text: string | undefined): PeerPlace {
    const address = text != null ? tryParseIpAddress(text) : undefined
    return { address, asn: this.resolver.asnOf(address), tieKey: peerTieKey(encoder.encode(this.selfPeerId), address) }
  }

  /** Where a peer is, from its id and one of its multiaddrs. */
  place (peerId: string, addr: string | undefined): RankCandidate {
    const address = addr != null ? ipOfMultiaddr(addr) : undefined
    return { address, asn: this.resolver.asnOf(address), tieKey: peerTieKey(encoder.encode(peerId), address), cost: this.alto?.cost(this.self.address, address) }
  }

  /** The transit class between this node and a host at `ip` (text, e.g. an HTTP client's address; IPv4-mapped IPv6 counts as IPv4). */
  localityOfIp (ip: string | undefined): LocalityClass {
    const address = ip != null ? tryParseIpAddress(ip) : undefined
    return classifyLocality(this.self, { address, asn: this.resolver.asnOf(address) })
  }

  /** True when the peer's address maps to this node's AS (never when either is unknown). */
  sameAs (place: PeerPlace): boolean {
    return this.self.asn !== 0 && place.asn === this.self.asn
  }

  /** Returns `items` nearest first (a new array; `items` is not changed). */
  rank<T> (items: readonly T[], where: (item: T) => { peerId: string, addr: string | undefined }): T[] {
    return this.rankFrom(this.self, items, where)
  }

  /** Returns `items` nearest to `from` first (another peer's view: a busy origin naming holders near a requester). */
  rankFrom<T> (from: PeerPlace, items: readonly T[], where: (item: T) => { peerId: string, addr: string | undefined }): T[] {
    const cands = items.map(item => {
      const w = where(item)
      const place = this.place(w.peerId, w.addr)
      // Costs are from the chooser's PID: `from`, not necessarily us.
      return { ...place, cost: this.alto?.cost(from.address, place.address), item }
    })
    rankPeers(from, cands, { proximity: this.proximity })
    return cands.map(c => c.item)
  }
}
