/**
 * What the overlay's libp2p shell offers its users (the peer runtime, the
 * origin seeder, the CLI): options, provider answers, status and events.
 */
import type { AltoCosts } from '../core/proximity/alto-map.js'
import type { AsnResolver } from '../core/proximity/asn-resolver.js'
import type { ContentId } from '../core/content/content-id.js'
import type { OverlayRole } from '../core/tier/supernode-policy.js'
import type { OverlayPeerInit } from '../core/peer/overlay-options.js'
import type { DhtRpcInit } from './dht-rpc.js'

import type { ReachabilityStatus } from '../core/reach/reachability.js'
export type { OverlayRoleSetting } from '../core/peer/overlay-options.js'

/** One provider of an item, as findProviders returns it (nearest first). */
export interface ProviderInfo {
  /** libp2p peer id string. */
  peerId: string
  /** Where to dial it (multiaddr strings without /p2p/; dial with the peer id). */
  multiaddrs: string[]
  /** It declared itself an origin seeder (holds every item of its publisher; use as the fallback). */
  origin: boolean
  /** AS number of its first address by our prefix table; 0 when unknown. */
  asn: number
}

/** What `status()` reports. */
export interface OverlayStatus {
  peerId: string
  role: OverlayRole
  /** Supernodes this peer is attached to (leaves only). */
  attached: Array<{ peerId: string, multiaddrs: string[] }>
  /** Contacts in the DHT routing table (supernodes and seeders only). */
  routingTableSize: number
  /** Leaves attached to this peer (supernodes and seeders only). */
  leaves: number
  /** Provider records in this peer's DHT store, its own included (supernodes and seeders only). */
  providerRecords: number
  /** Items this peer announces. */
  itemsHeld: number
  /** This peer's address as used for proximity, and its AS (0 = unknown). */
  publicAddress: string | undefined
  asn: number
  /** Whether peers could dial us back, and on which addresses (core/reach/reachability.ts). */
  reachability: ReachabilityStatus
  /** Relays holding a reservation for us (a leaf others cannot dial; relay-reservations.ts). */
  relays: string[]
}

/** Events of an OverlayService (`noun:verb`, detail objects are plain JSON). */
export interface OverlayEvents {
  'role:changed': CustomEvent<{ role: OverlayRole, previous: OverlayRole | undefined, reason: string }>
  'supernode:attached': CustomEvent<{ peerId: string, multiaddrs: string[] }>
  'supernode:detached': CustomEvent<{ peerId: string, reason: string }>
  'provider:announced': CustomEvent<{ contentId: ContentId }>
  'provider:withdrawn': CustomEvent<{ contentId: ContentId }>
  'providers:found': CustomEvent<{ contentId: ContentId, providers: number, origins: number }>
  'peer:penalized': CustomEvent<{ peerId: string, reason: string }>
  'overlay:error': CustomEvent<{ message: string }>
  /** Our reachability changed (dial-back verdicts of other peers). */
  'reachability:changed': CustomEvent<ReachabilityStatus>
  /** A relay holds a reservation for us; `addrs` are our relayed addresses through it. */
  'relay:reserved': CustomEvent<{ relay: string, addrs: string[] }>
  /** A relay refused or did not answer a reservation (asked again later while wanted), or (`broken`) granted one but did not carry our probe's relayed connection: we left it. */
  'relay:failed': CustomEvent<{ relay: string, message: string, broken?: boolean }>
}

/** Options of an OverlayService: the peer's (OverlayPeerInit, one default each) plus what only the libp2p shell knows. */
export interface OverlayInit extends OverlayPeerInit {
  /** Bootstrap multiaddrs, each ending in /p2p/PEER_ID (supernodes or seeders). Default none. */
  bootstrap?: string[]
  /** Our public IP as configured (`--public-ip`); otherwise identify's observed addresses, then our listen addresses. */
  publicIp?: string
  /** Address → AS for proximity ranking. Default: an empty table (every AS unknown, ranking by shared prefix). */
  asnResolver?: AsnResolver
  /** An ISP's ALTO maps: lower cost first among providers and supernodes equally near by AS and prefix. Default none. */
  alto?: AltoCosts
  /** Whether others can dial us, for promotion. Default: measured, by dial-back verdicts of several verifier networks (libp2p's AutoNAT v2 at members, core/reach/reachability.ts). */
  reachable?: boolean
  /** Upload not used by transfers, in bytes/s, for promotion, when the operator knows it. Default: measured (core/tier/spare-upload.ts) from `uploadedBytes` against `uploadCapacityBytesPerSec`. */
  spareUploadBytesPerSec?: number
  /** Upload capacity, bytes/s (the configured upload limit). Default: the highest rate the peer has sustained for 10 s (0 until it has uploaded). */
  uploadCapacityBytesPerSec?: number
  /** Piece bytes uploaded since start (the upload gate's counter), sampled every LOAD_REPORT_INTERVAL_MS. Default: none uploaded. */
  uploadedBytes?: () => number
  /** Stream limits of the DHT protocol (its request timeout is the peer's). */
  rpc?: Omit<DhtRpcInit, 'requestTimeoutMs'>
  /** Uniform random in [0, 1). Default crypto-based. */
  random?: () => number
  /** The node's upload load, reported to the peer every LOAD_REPORT_INTERVAL_MS with the event-loop lag (a supernode sheds new leaves when loaded). Default: no upload load. */
  uploadUtilization?: () => number
}

/** How often a member reports its load (upload slots in use, event-loop lag p99) to the peer, ms. */
export const LOAD_REPORT_INTERVAL_MS = 1000

/** Thrown by findProviders when the overlay is stopped or not started. */
export class OverlayStoppedError extends Error {
  override name = 'OverlayStoppedError'
  readonly code = 'ERR_OVERLAY_STOPPED'
}

/** Items one peer may announce; more are refused (the core caps leaves at 100 000 keys too). */
export const MAX_HELD_ITEMS = 100_000
/** Observed addresses kept from identify for pickPublicAddress. */
export const MAX_OBSERVED = 64

