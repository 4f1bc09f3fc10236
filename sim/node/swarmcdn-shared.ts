/**
 * What every simulated swarmcdn node of one world shares: the resolved
 * parameters and overlay options, the bootstrap list, item keys, what each
 * node holds on disk, and the model's region counts. Built once per world,
 * so a node carries one reference to it instead of a closure context.
 */
import type { Rng } from '../engine/rng.js'
import { keyFromBytes, keyToHex, type Key } from '../../src/core/ids.js'
import type { Contact } from '../../src/core/dht/contact.js'
import type { OverlayRole } from '../../src/core/tier/supernode-policy.js'
import type { OverlayPeer } from '../../src/core/peer/overlay-peer.js'
import { resolveOverlayOptions, type ResolvedOverlayOptions } from '../../src/core/peer/overlay-options.js'
import { DEFAULT_PEER_UPLOAD_SLOTS, originUploadPolicy, type UploadPolicyInit } from '../../src/core/swarm/upload-policy.js'
import type { SimDirectory } from './sim-directory.js'
import type { SwarmcdnParams } from './swarmcdn-params.js'
import { ROLE_SEEDER, ROLE_SUPERNODE, type World } from './world.js'

const encoder = new TextEncoder()

/** The DHT key of catalog item `item` (1-based rank) in a simulated world. */
export function itemKey (item: number): Key { return keyFromBytes(encoder.encode(`sim-item-${item}`)) }

/** What the shared state and the factory read of an online node. */
export interface SwarmcdnNodeView {
  readonly peer: OverlayPeer
  /** Leaves attached, when a supernode; undefined otherwise. */
  leafCount: () => number | undefined
  /** Chokes its upload policy decided (inspection). */
  readonly uploadChokes: number
  /** Times an item went busy at its upload policy (inspection). */
  readonly uploadBusyTimes: number
  /** Holders named in busy chokes and declines (inspection). */
  readonly alternativesNamed: number
}

/** What every node of one world shares: built once per factory, so a node carries one reference to it instead of a closure context. */
export class SwarmcdnShared {
  readonly p: SwarmcdnParams
  readonly world: World
  readonly dir: SimDirectory
  /** The overlay peer's options, resolved once for every node. */
  readonly overlay: ResolvedOverlayOptions
  /** The bootstrap list every peer ships with (one array, shared). */
  readonly bootstrap: Contact[]
  private readonly rngs: Array<Rng | undefined>
  /** Items each node holds (on disk: survives restarts). */
  readonly held: Array<number[] | undefined>
  readonly regionSupernodes: Int32Array
  readonly regionLeaves: Int32Array
  private readonly keys: Array<Key | undefined>
  readonly itemOfHex: Map<string, number>
  /** DHT members currently announcing each item (to tell an unanswerable lookup from a failed one). */
  readonly announcers: Int32Array
  readonly seeders: number[]
  readonly unreachable: Set<number>
  readonly adapters: Array<SwarmcdnNodeView | undefined>
  readonly pieceTimeoutMs: number
  /** What `swarmcdn seed` runs (busy mode, spreading) and what `swarmcdn peer` runs: the core's defaults, once. */
  readonly originPolicy: UploadPolicyInit = originUploadPolicy()
  readonly peerPolicy: UploadPolicyInit = { regularSlots: DEFAULT_PEER_UPLOAD_SLOTS }

  constructor (world: World, dir: SimDirectory, p: SwarmcdnParams) {
    const n = world.nodeCount
    this.p = p
    this.world = world
    this.dir = dir
    this.rngs = new Array(n)
    this.held = new Array(n)
    const asCount = world.net.ases.members.length
    this.regionSupernodes = new Int32Array(asCount)
    this.regionLeaves = new Int32Array(asCount)
    this.keys = new Array(world.scenario.workload.catalogItems + 1)
    this.itemOfHex = new Map()
    this.announcers = new Int32Array(world.scenario.workload.catalogItems + 1)
    this.seeders = []
    for (let s = world.seederBase; s < n; s++) this.seeders.push(s)
    const staticSupernodes: number[] = []
    for (let i = 0; i < world.peerCount; i++) if (world.role[i] === ROLE_SUPERNODE) staticSupernodes.push(i)
    this.bootstrap = [...this.seeders, ...(p.leafDiscovery === 'shipped-list' ? staticSupernodes : [])].map(i => dir.contact(i))
    this.unreachable = new Set(p.unreachableClasses.map(name => world.scenario.network.accessClasses.findIndex(c => c.name === name)).filter(i => i >= 0))
    this.adapters = new Array(n)
    this.pieceTimeoutMs = p.pieceTimeoutS * 1000
    this.overlay = resolveOverlayOptions({
      proximity: p.proximity,
      k: p.k,
      requestTimeoutMs: p.requestTimeoutMs,
      keepAliveIntervalMs: p.keepAliveIntervalS * 1000,
      refreshIntervalMs: p.refreshIntervalS * 1000,
      policyIntervalMs: p.policyIntervalS * 1000,
      maxKnownServers: p.maxKnownServers,
      policy: { minUptimeMs: p.minUptimeS * 1000, targetLeavesPerSupernode: p.targetLeavesPerSupernode, minSupernodesPerRegion: p.minSupernodesPerRegion, minSpareUploadBytesPerSec: p.minSpareUploadBytesPerSec },
      dht: { alpha: p.alpha, providerLookupResiliency: p.providerLookupResiliency, regionOf: dir.regionOf },
      // The simulator reports no connection opens: records count at once, placed by the contact's address.
      providerAdmission: { minConnectionAgeMs: 0 },
      leaf: { targetAttachments: p.targetAttachments, maxCandidates: p.maxCandidates },
      index: { maxLeaves: p.maxLeaves }
    })
  }

  rngOf (node: number): Rng {
    let r = this.rngs[node]
    if (r == null) { r = this.world.streams.stream('swarmcdn-node', node); this.rngs[node] = r }
    return r
  }

  keyOf (item: number): Key {
    let k = this.keys[item]
    if (k == null) { k = itemKey(item); this.keys[item] = k; this.itemOfHex.set(keyToHex(k), item) }
    return k
  }

  itemOf (key: Key): number | undefined { return this.itemOfHex.get(keyToHex(key)) }

  /**
   * The role a node declares in its frames now: its overlay peer's while it
   * is online, else the static one (seeder, or leaf). Read from the world's
   * arrays, which the host keeps equal to the peer's role (every role change
   * is a `role` effect, applied before the next event): this runs for every
   * message, and typed arrays are cheaper to reach than the sender's adapter
   * and peer objects (checked equal to the peer's role over a 10^4-peer run).
   */
  roleOf (node: number): OverlayRole {
    const w = this.world
    if (w.role[node] === ROLE_SEEDER) return 'seeder'
    return w.online[node] === 1 && w.isSupernode(node) ? 'supernode' : 'leaf'
  }
}
