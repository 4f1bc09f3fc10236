/**
 * How simulated nodes appear to the core: one Contact per node (its key is
 * the SHA-256 of a per-node name, its peer id the node index in decimal,
 * its address the one the placement gave it), and the ranking inputs
 * (AS, address, tie key) rankPeers needs. Contacts are built on first use
 * and shared by every machine that stores them, so a routing table or a
 * leaf's candidate list costs references, not copies.
 */
import { keyFromBytes } from '../../src/core/ids.js'
import type { Contact, RegionOf } from '../../src/core/dht/contact.js'
import { ipv4FromNumber } from '../../src/core/proximity/ip-address.js'
import { peerTieKey, rankPeers, type PeerPlace, type RankCandidate } from '../../src/core/proximity/peer-ranking.js'
import { ROLE_SEEDER, type World } from './world.js'

const encoder = new TextEncoder()

interface Ranked extends RankCandidate { c: Contact }

/** Contacts, places and ranking for the nodes of one world. */
export class SimDirectory {
  private readonly contacts: Array<Contact | undefined>
  private readonly places: Array<PeerPlace | undefined>
  private readonly regions: Array<string | undefined>

  constructor (private readonly world: World) {
    this.contacts = new Array(world.nodeCount)
    this.places = new Array(world.nodeCount)
    this.regions = new Array(world.nodeCount)
  }

  /** The node's contact (seeders carry `origin: true`). */
  contact (node: number): Contact {
    let c = this.contacts[node]
    if (c == null) {
      const ip = this.world.net.ipOf[node]
      c = { id: keyFromBytes(encoder.encode(`sim-node-${node}`)), peerId: String(node), addrs: [`/ip4/${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}/tcp/4001`] }
      if (this.world.role[node] === ROLE_SEEDER) c.origin = true
      this.contacts[node] = c
    }
    return c
  }

  /** Node index of a contact. */
  nodeOf (c: Contact): number { return Number(c.peerId) }

  /** Where a node is, for rankPeers: its AS number, address and BEP 40 tie key. */
  place (node: number): PeerPlace {
    let p = this.places[node]
    if (p == null) {
      const address = ipv4FromNumber(this.world.net.ipOf[node])
      p = { address, asn: this.world.net.asnOf(node), tieKey: peerTieKey(this.contact(node).id, address) }
      this.places[node] = p
    }
    return p
  }

  /** Region label for the DHT diversity limits: the address's /16 (the core's default rule, without parsing strings), built once per node. */
  readonly regionOf: RegionOf = (c) => {
    const node = this.nodeOf(c)
    let r = this.regions[node]
    if (r === undefined) { r = `v4:${this.world.net.ipOf[node] >>> 16}`; this.regions[node] = r }
    return r
  }

  /** `contacts` ranked nearest to `self` first by the core's rankPeers (proximity off: tie keys only). */
  rank (self: number, contacts: readonly Contact[], proximity: boolean): Contact[] {
    const cands: Ranked[] = contacts.map(c => { const p = this.place(this.nodeOf(c)); return { address: p.address, asn: p.asn, tieKey: p.tieKey, c } })
    return rankPeers(this.place(self), cands, { proximity, rtt: false }).map(x => x.c)
  }
}
