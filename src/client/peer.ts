/**
 * The peer runtime: one libp2p node per process carrying the overlay (DHT +
 * supernode tier) and a swarm peer (serving the store and downloads in
 * progress under the upload gate, downloading from many sources). The
 * swarm peer announces what it holds through the overlay and finds
 * providers through it. Used by `swarmcdn peer`, `get` and `stream`
 * without `--peer`.
 *
 * Composition, in order: node → status protocol → overlay.start() → swarm
 * peer on the same node (registers manifest + xfer once, with the gate;
 * announces store items). Origin seeders (seeders/origin-seeder.ts) are
 * this runtime with role 'seeder' and the origin upload policy (busy mode,
 * piece spreading, "busy, try these peers"): one serving path for all.
 */
import { relayStats } from '../net/relay-server.js'
import type { PrivateKey } from '@libp2p/interface'
import { ContentStore } from '../store/content-store.js'
import { createSwarmNode, type SwarmNode, type SwarmNodeInit } from '../net/swarm-node.js'
import type { RelayServerInit } from '../net/relay-server.js'
import { registerStatusProtocol } from '../net/status-protocol.js'
import { OverlayService, type OverlayInit, type OverlayRoleSetting } from '../net/overlay-service.js'
import type { AsnResolver } from '../core/proximity/asn-resolver.js'
import type { ContentId } from '../core/content/content-id.js'
import { prefixTableResolver } from './lazy-asn-resolver.js'
import { emptyLocalityBytes, type LocalityByteCounts } from '../core/proximity/locality.js'
import type { Registry } from 'prom-client'
import type { MetricsServer } from './metrics-server.js'
import { DeliveryLedger } from '../core/accounting/delivery-ledger.js'
import { registerDeliveryProtocol } from '../net/delivery-protocol.js'
import { watchStore } from './store-watch.js'
import type { PeerStatus } from './peer-status.js'
import { startSwarmPeer, type ProviderFinder, type SwarmDownloadInit, type SwarmDownloadResult, type SwarmPeer, type SwarmPeerInit } from './swarm-peer.js'

/** The overlay options that are not fields of PeerInit itself (each option is given in one place). */
export type PeerOverlayInit = Omit<OverlayInit, 'role' | 'bootstrap' | 'publicIp' | 'proximity' | 'asnResolver'>

/** Options of startPeer. */
export interface PeerInit {
  /** Content store to serve and announce (created if missing); completed downloads join it. Default: none (downloads are served from their output files). */
  storeDir?: string
  /** An open store instead of storeDir (not closed by stop). */
  store?: ContentStore
  /** Serve this instead of the store and downloads (see SwarmPeerInit.provider). Default: the store plus downloads. */
  provider?: SwarmPeerInit['provider']
  /** Listen multiaddrs. Default `/ip4/0.0.0.0/tcp/0`. */
  listenMultiaddrs?: string[]
  /** Bootstrap multiaddrs (ending in /p2p/PEER_ID). Default none. */
  bootstrap?: string[]
  /** Configured public IP (`--public-ip`). */
  publicIp?: string
  /** Role. Default 'auto'. */
  role?: OverlayRoleSetting
  /** Prefix-table files for AS lookups; default the @ip-location-db/asn package tables; [] for none. */
  prefixTablePaths?: string[]
  /** An AS resolver to use instead of loading prefix-table files (tests with many peers share one). */
  asnResolver?: AsnResolver
  /** Rank by proximity. Default true. */
  proximity?: boolean
  /** An ISP's ALTO maps for the swarm's ranking of providers and requesters (SwarmPeerInit.alto). Default none. */
  alto?: SwarmPeerInit['alto']
  /** Stable identity. Default a fresh key. */
  privateKey?: PrivateKey
  /** Further overlay options (timers, limits); role, bootstrap, publicIp, proximity and the AS resolver are the fields above, set once. */
  overlay?: PeerOverlayInit
  /** Upload policy: `regularSlots` (default 4), `uploadBytesPerSec` (default unlimited), periods. */
  upload?: SwarmPeerInit['upload']
  /** Peer ids that may read this peer's status from anywhere; the local machine always may. Default none. */
  statusAllowPeerIds?: string[]
  /** libp2p connection limits. */
  node?: Pick<SwarmNodeInit, 'inboundConnectionsPerSecPerHost' | 'maxIncomingPendingConnections'>
  /** Limits of the circuit relay server this peer runs while it is a supernode or seeder (src/net/relay-server.ts, each with its default). */
  relay?: RelayServerInit
  /** Ask the home router for port forwards (UPnP IGD), removed on stop. Default false (the CLI's `peer` and `get --seed` turn it on). */
  upnp?: boolean
  /**
   * Follow the store's folder while running: items published into it by
   * another process are served and announced, removed ones (`unpublish`)
   * withdrawn (client/store-watch.ts). Default false.
   */
  watchStore?: boolean | { rescanIntervalMs?: number }
  /** Called after the store watch found items added or removed. */
  onStoreChange?: (change: { added: ContentId[], removed: ContentId[] }) => void
  /** Which held items to announce in the overlay (a fleet seeder announces what it owns). Default: all. */
  announceFilter?: (contentId: ContentId) => boolean
  /** Serve Prometheus metrics on `http://HOST:PORT/metrics` (`--metrics`; port 0 picks one). Default: no metrics, no libp2p metrics either. */
  metrics?: PeerMetricsInit
}

/** Where and what a peer's metrics endpoint serves. */
export interface PeerMetricsInit {
  host: string
  port: number
  /** The registry to fill and serve (an origin seeder adds its web seed's counters to it). Default: a new one. */
  registry?: Registry
  /** Bytes served over HTTP by requester locality (an origin seeder's web seed). Default: none. */
  httpServedByLocality?: () => LocalityByteCounts
}

export type { PeerStatus } from './peer-status.js'

/** A running peer. */
export interface Peer {
  node: SwarmNode
  overlay: OverlayService
  /** Serving and downloading on the same node. */
  swarm: SwarmPeer
  /** The open store, when storeDir was given. */
  store: ContentStore | undefined
  peerId: string
  /** Dialable addresses, each ending in /p2p/PEER_ID. */
  multiaddrs: () => string[]
  /** Providers through the overlay (the default finder of `download`). */
  finder: ProviderFinder
  /** Downloads from providers found through the overlay (plus `init.sources`), serving and announcing the item as it arrives. */
  download: (contentId: string, outputPath: string, init?: SwarmDownloadInit) => Promise<SwarmDownloadResult>
  /** Overlay status, store item count, traffic and per-item swarm numbers. */
  status: () => PeerStatus
  /** `http://HOST:PORT/metrics`, when `metrics` was given. */
  metricsUrl?: string
  /** The registry behind it. */
  metricsRegistry?: Registry
  /** Delivery reports received (origin seeders only: role 'seeder'). */
  deliveries?: DeliveryLedger
  /** Leaves the overlay, stops serving, stops the node, closes the store. */
  stop: () => Promise<void>
}

/** The overlay's findProviders as a swarm ProviderFinder (origin → isOrigin). */
export function overlayFinder (overlay: OverlayService): ProviderFinder {
  return async (contentId: ContentId, { signal }) => (await overlay.findProviders(contentId, { signal }))
    .map(p => ({ peerId: p.peerId, multiaddrs: p.multiaddrs, isOrigin: p.origin }))
}

/** Starts a peer: joins the overlay and serves its store (see the file's comment). */
export async function startPeer (init: PeerInit = {}): Promise<Peer> {
  const resolver = init.asnResolver ?? prefixTableResolver(init.prefixTablePaths)
  const opened = init.store == null && init.storeDir != null ? await ContentStore.open(init.storeDir) : undefined
  const store = init.store ?? opened
  // prom-client and the metrics server load only when metrics are asked for (`get` and `peer` without --metrics never use them).
  const registry = init.metrics == null ? undefined : init.metrics.registry ?? (await import('./peer-metrics.js')).createMetricsRegistry()
  const node = await createSwarmNode({ listenMultiaddrs: init.listenMultiaddrs ?? ['/ip4/0.0.0.0/tcp/0'], privateKey: init.privateKey, metricsRegistry: registry, relayServer: init.relay ?? {}, upnp: init.upnp, ...init.node })
  const overlay = new OverlayService(node, {
    ...init.overlay,
    role: init.role ?? 'auto',
    bootstrap: init.bootstrap,
    publicIp: init.publicIp,
    proximity: init.proximity,
    asnResolver: resolver,
    alto: init.alto,
    uploadUtilization: () => swarm?.gate.slotUtilization() ?? 0,
    uploadedBytes: () => swarm?.gate.bytesUploaded ?? 0,
    ...(init.upload?.uploadBytesPerSec != null ? { uploadCapacityBytesPerSec: init.upload.uploadBytesPerSec } : {})
  })
  let swarm: SwarmPeer | undefined
  let metricsServer: MetricsServer | undefined
  // Downloaders report completed items to origins: only a seeder takes reports.
  const deliveries = init.role === 'seeder' ? new DeliveryLedger() : undefined
  const status = (): PeerStatus => {
    const s = swarm?.stats()
    return {
      ...overlay.status(),
      items: store?.list().length ?? 0,
      traffic: s?.traffic ?? { downloadedFromPeersBytes: 0, downloadedFromSeedersBytes: 0, uploadedBytes: 0, downloadedByLocality: emptyLocalityBytes(), uploadedByLocality: emptyLocalityBytes() },
      swarm: s?.items ?? []
    }
  }
  try {
    await registerStatusProtocol(node, status, { allowPeerIds: init.statusAllowPeerIds })
    await overlay.start()
    swarm = await startSwarmPeer({
      node,
      store,
      provider: init.provider,
      asnResolver: resolver,
      selfAddress: init.publicIp,
      proximity: init.proximity,
      alto: init.alto,
      upload: init.upload,
      // A seeder says so in its xfer handshake too, for clients that dial it directly.
      origin: init.role === 'seeder',
      announce: id => { if (init.announceFilter?.(id) !== false) overlay.announce(id) },
      withdraw: id => { overlay.withdraw(id) },
      // A busy seeder names the holders its overlay knows in its chokes and spread rejects.
      alternativesFinder: overlayFinder(overlay)
    })
    if (deliveries != null) {
      const served = init.provider ?? swarm.provider
      await registerDeliveryProtocol(node, { ledger: deliveries, itemLengthBytes: id => served.manifest(id as ContentId)?.lengthBytes })
    }
    if (init.metrics != null && registry != null) {
      const sw = swarm
      const [{ registerPeerMetrics }, { startMetricsServer }] = await Promise.all([import('./peer-metrics.js'), import('./metrics-server.js')])
      registerPeerMetrics(registry, { status, serving: sw.serving, gate: sw.gate, connections: () => node.getConnections().length, httpServedByLocality: init.metrics.httpServedByLocality, deliveries, relay: () => relayStats(node) })
      metricsServer = await startMetricsServer({ registry, host: init.metrics.host, port: init.metrics.port })
    }
  } catch (err) {
    await swarm?.stop().catch(() => {})
    await overlay.stop().catch(() => {})
    try { await node.stop() } catch {}
    await opened?.close()
    throw err
  }
  const sw = swarm
  const finder = overlayFinder(overlay)
  const unwatch = init.watchStore == null || init.watchStore === false || store == null
    ? undefined
    : watchStore(store, {
      rescanIntervalMs: typeof init.watchStore === 'object' ? init.watchStore.rescanIntervalMs : undefined,
      onChange: change => {
        for (const id of change.added) if (init.announceFilter?.(id) !== false) overlay.announce(id)
        for (const id of change.removed) overlay.withdraw(id)
        init.onStoreChange?.(change)
      }
    })
  return {
    node,
    overlay,
    swarm: sw,
    store,
    peerId: node.peerId.toString(),
    multiaddrs: () => node.getMultiaddrs().map(a => a.toString()),
    finder,
    download: async (contentId, outputPath, dl = {}) => await sw.download(contentId, outputPath, { finder, ...dl }),
    status,
    metricsUrl: metricsServer?.url,
    metricsRegistry: registry,
    deliveries,
    stop: async () => {
      unwatch?.()
      await metricsServer?.close()
      await overlay.stop()
      await sw.stop()
      await node.stop()
      await opened?.close()
    }
  }
}
