/**
 * An origin seeder: the peer runtime (src/client/peer.ts, role 'seeder')
 * serving every item of a content store, plus an optional HTTP web seed.
 * There is one serving path: the swarm peer's xfer server under the upload
 * gate, with the origin policy below (issue 4): an item with fewer than
 * `busyThresholdRequesters` requesters at once (the long tail, which only
 * the seeder serves) goes to every requester at full speed; a popular item
 * is served through the upload slots, its pieces spread (each once before
 * any twice), and the choked requesters are told "busy, try these peers"
 * with holders the overlay knows.
 */
import type { PrivateKey } from '@libp2p/interface'
import { ContentStore } from '../src/store/content-store.js'
import type { SwarmNode } from '../src/net/swarm-node.js'
import type { ContentProvider } from '../src/net/content-provider.js'
import { startWebSeed, type WebSeed } from './web-seed.js'
import type { ItemServerLimits } from '../src/http/item-server.js'
import type { OverlayService } from '../src/net/overlay-service.js'
import { AsnResolver } from '../src/core/proximity/asn-resolver.js'
import { startPeer, type Peer, type PeerInit, type PeerOverlayInit } from '../src/client/peer.js'
import { offenderGuardOf } from '../src/net/offender-guard.js'
import type { OffenseLedgerInit } from '../src/core/abuse/offense-ledger.js'
import type { XferServingLimits } from '../src/net/xfer-server.js'
import { Registry } from 'prom-client'
import { emptyLocalityBytes } from '../src/core/proximity/locality.js'
import type { FleetRecord } from '../src/core/fleet/fleet-record.js'
import { FleetMembership } from '../src/core/fleet/fleet-membership.js'
import { joinFleet, type SeederFleet } from './fleet-seeder.js'
import { registerFleetMetrics } from './fleet-metrics.js'

import { originUploadPolicy, type OriginUploadInit } from '../src/core/swarm/upload-policy.js'

/** The origin's upload policy lives in the core, where the simulator's seeders run it too. */
export { DEFAULT_ORIGIN_BUSY_THRESHOLD_REQUESTERS, DEFAULT_ORIGIN_UPLOAD_SLOTS, DEFAULT_ORIGIN_OPTIMISTIC_SLOTS, DEFAULT_ORIGIN_RECHOKE_INTERVAL_MS, DEFAULT_ORIGIN_OPTIMISTIC_INTERVAL_MS, originUploadPolicy, type OriginUploadInit } from '../src/core/swarm/upload-policy.js'

/** Options for startOriginSeeder. */
export interface OriginSeederInit {
  /** The content store directory to serve (created if missing, unless `createStore` is false). Ignored when `store` is given. */
  storeDir?: string
  /** Create `storeDir` when it does not exist. Default true (the CLI passes false unless --create-store: a mistyped path would serve nothing). */
  createStore?: boolean
  /** An already open store (or any ContentProvider, e.g. a test's wrapper) to serve. */
  store?: ContentProvider
  /** libp2p listen multiaddrs. Default `/ip4/127.0.0.1/tcp/0`. */
  listenMultiaddrs?: string[]
  /** libp2p private key for a stable peer id. Default: a fresh key each start. */
  privateKey?: PrivateKey
  /**
   * Also serve the store as an HTTP web seed (manifest and byte ranges) on
   * this host and port; port 0 picks a free one. Default: no HTTP.
   * Needs a ContentStore (storeDir, or a ContentStore as `store`).
   */
  http?: { host: string, port: number }
  /** Connection limits of the web seed. Default: WEBSEED_DEFAULTS (256 connections, 32 per address, 10 s header deadline, 256 B/s minimum header rate, 10 s stalled responses). */
  httpLimits?: Partial<Omit<ItemServerLimits, 'port'>>
  /**
   * Overlay peers to join through (multiaddrs ending in /p2p/PEER_ID). A
   * seeder is always a permanent DHT member (role 'seeder') and announces
   * every item it serves; without bootstrap it waits for others to join it.
   */
  bootstrap?: string[]
  /** Prefix-table files for proximity ranking of the leaves it indexes. Default: startPeer's (the @ip-location-db/asn package tables); [] for none. */
  prefixTablePaths?: string[]
  /** An AS resolver instead of prefixTablePaths (tests with many nodes share one). */
  asnResolver?: AsnResolver
  /** Configured public IP (`--public-ip`). Default: observed by identify. */
  publicIp?: string
  /** Rank by proximity. Default true. */
  proximity?: boolean
  /** An ISP's ALTO maps for ranking requesters (PeerInit.alto). Default none. */
  alto?: PeerInit['alto']
  /** Further overlay options (timers, limits); role is always 'seeder'. */
  overlay?: PeerOverlayInit
  /** Upload policy: slots, rate limit, busy mode (see OriginUploadInit for defaults). */
  upload?: OriginUploadInit
  /** Upload rate caps per requester AS, bytes/s (`seed --as-upload-limit`), on top of the total. Default: none. */
  asUploadLimits?: Readonly<Record<number, number>>
  /** libp2p connection limits (an origin facing a burst of clients raises them). */
  node?: PeerInit['node']
  /** Limits of the circuit relay server the seeder runs for leaves behind NATs (src/net/relay-server.ts, each with its default). */
  relay?: PeerInit['relay']
  /** Offender policy of every protocol (see core/abuse/offense-ledger.ts). Default: 3 offenses in 10 min ban a peer for 10 min. */
  offenders?: OffenseLedgerInit
  /** Limits of the xfer server against hostile requesters (see XferProtocolInit for defaults). */
  xfer?: XferServingLimits
  /**
   * Run as a member of the publisher's fleet under this record (`seed
   * --fleet`): serve the record, announce only the items this seeder owns,
   * take items the publisher offers (seeders/fleet-seeder.ts). Needs a
   * ContentStore. Default: no fleet (announce every item).
   */
  fleet?: FleetRecord
  /** Follow the store folder: serve and announce items published into it while running, withdraw removed ones (see PeerInit.watchStore). Default false (the CLI turns it on). */
  watchStore?: PeerInit['watchStore']
  /** Called when the store watch found items added or removed. */
  onStoreChange?: PeerInit['onStoreChange']
  /** Serve Prometheus metrics on `http://HOST:PORT/metrics` (`seed --metrics`): the peer's, libp2p's and the web seed's. Default: none. */
  metrics?: { host: string, port: number }
}

/** A running origin seeder. */
export interface OriginSeeder {
  node: SwarmNode
  peerId: string
  /** Dialable addresses, each ending in /p2p/PEER_ID. */
  multiaddrs: string[]
  /** Base URL of the HTTP web seed, when `http` was given. */
  httpUrl?: string
  /** The Prometheus endpoint, when `metrics` was given. */
  metricsUrl?: string
  /** Content ids served (when serving a ContentStore). */
  contentIds: string[]
  /** Store folders not served because they failed to load (corrupt manifest, truncated data), with why. */
  skipped: Array<{ entry: string, reason: string }>
  /** Its fleet side, when `fleet` was given. */
  fleet?: SeederFleet
  /** Its overlay membership (DHT + index): status(), findProviders, events. */
  overlay: OverlayService
  /** The peer runtime it runs on: `peer.swarm.gate` has the upload counters (bytesUploaded, chokesSent, piecesDeclined). */
  peer: Peer
  /** Stops the node and closes the store (if opened here). */
  stop: () => Promise<void>
}

/** Starts serving a store over libp2p (and HTTP, with `http`) on the peer runtime. */
export async function startOriginSeeder (init: OriginSeederInit = {}): Promise<OriginSeeder> {
  const upload = originUploadPolicy(init.upload)
  let opened: ContentStore | undefined
  if (init.store == null) {
    if (init.storeDir == null) throw new TypeError('startOriginSeeder needs storeDir or store')
    opened = await ContentStore.open(init.storeDir, { create: init.createStore })
  }
  const store = opened ?? (init.store instanceof ContentStore ? init.store : undefined)
  if (init.http != null && store == null) {
    await opened?.close()
    throw new TypeError('an HTTP web seed needs a ContentStore to serve')
  }
  if (init.fleet != null && store == null) {
    await opened?.close()
    throw new TypeError('a fleet seeder needs a ContentStore')
  }
  let peer: Peer
  let fleet: SeederFleet | undefined
  let membership: FleetMembership | undefined
  let web: WebSeed | undefined
  // One registry for the peer, libp2p and the web seed; the web seed starts after the peer, so its bytes are read through `web`.
  const registry = init.metrics != null ? new Registry() : undefined
  try {
    peer = await startPeer({
      role: 'seeder',
      store,
      // A wrapped store (tests, benchmarks) is served as given, under the same gate.
      provider: init.store != null && init.store !== store ? init.store : undefined,
      listenMultiaddrs: init.listenMultiaddrs ?? ['/ip4/127.0.0.1/tcp/0'],
      privateKey: init.privateKey,
      bootstrap: init.bootstrap,
      publicIp: init.publicIp,
      proximity: init.proximity,
      alto: init.alto,
      asnResolver: init.asnResolver,
      prefixTablePaths: init.prefixTablePaths,
      overlay: init.overlay,
      upload: { ...upload, ...(init.xfer != null ? { xfer: init.xfer } : {}), ...(init.asUploadLimits != null ? { asUploadLimits: init.asUploadLimits } : {}) },
      node: init.node,
      relay: init.relay,
      watchStore: init.watchStore,
      onStoreChange: init.onStoreChange,
      announceFilter: init.fleet == null ? undefined : id => membership?.owns(id) === true,
      metrics: init.metrics == null ? undefined : { ...init.metrics, registry, httpServedByLocality: () => web?.metrics.bytesByLocality ?? emptyLocalityBytes() }
    })
    if (init.offenders != null) offenderGuardOf(peer.node).configure(init.offenders)
  } catch (err) {
    await opened?.close()
    throw err
  }
  if (init.fleet != null && store != null) {
    try {
      membership = new FleetMembership(init.fleet, peer.peerId)
      // Store items were announced before the membership existed (filtered out): announce the owned ones now.
      for (const id of store.list()) if (membership.owns(id)) peer.overlay.announce(id)
      fleet = await joinFleet(peer, store, membership)
      if (registry != null) registerFleetMetrics(registry, membership, store)
    } catch (err) {
      await peer.stop()
      await opened?.close()
      throw err
    }
  }
  const shutdown = new AbortController()
  if (init.http != null && store != null) {
    try {
      const ranker = peer.swarm.ranker
      web = await startWebSeed({ ...init.httpLimits, store, host: init.http.host, port: init.http.port, signal: shutdown.signal, registry, localityOf: ip => ranker.localityOfIp(ip) })
    } catch (err) {
      shutdown.abort()
      await peer.stop()
      await opened?.close()
      throw err
    }
  }
  return {
    node: peer.node,
    peerId: peer.peerId,
    multiaddrs: peer.multiaddrs(),
    httpUrl: web?.url,
    metricsUrl: peer.metricsUrl,
    contentIds: store?.list() ?? [],
    skipped: store?.skipped ?? [],
    overlay: peer.overlay,
    fleet,
    peer,
    stop: async () => {
      await web?.close()
      shutdown.abort()
      await peer.stop()
      await opened?.close()
    }
  }
}
