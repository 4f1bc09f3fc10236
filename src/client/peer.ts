/**
 * A long-lived peer: a libp2p node, the overlay (DHT + supernode tier) and,
 * when given a content store, the manifest and xfer protocols serving every
 * item in it; each item is announced in the overlay. Used by `swarmcdn peer`
 * and, with role 'seeder', by the origin seeder.
 */
import type { PrivateKey } from '@libp2p/interface'
import { ContentStore } from '../store/content-store.js'
import { createSwarmNode, type SwarmNode, type SwarmNodeInit } from '../net/swarm-node.js'
import { registerManifestProtocol } from '../net/manifest-protocol.js'
import { registerXferProtocol } from '../net/xfer-server.js'
import { registerStatusProtocol } from '../net/status-protocol.js'
import { OverlayService, type OverlayInit, type OverlayRoleSetting, type OverlayStatus } from '../net/dht-service.js'
import { AsnResolver } from '../core/proximity/asn-resolver.js'
import { loadPrefixTableFiles } from './prefix-table-files.js'

/** Options of startPeer. */
export interface PeerInit {
  /** Content store to serve and announce (created if missing). Default: none (a pure downloader/relay). */
  storeDir?: string
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
  /** Rank by proximity. Default true. */
  proximity?: boolean
  /** Stable identity. Default a fresh key. */
  privateKey?: PrivateKey
  /** Further overlay options (timers, limits). */
  overlay?: OverlayInit
  /** libp2p connection limits. */
  node?: Pick<SwarmNodeInit, 'inboundConnectionsPerSecPerHost' | 'maxIncomingPendingConnections'>
}

/** A running peer. */
export interface Peer {
  node: SwarmNode
  overlay: OverlayService
  /** The open store, when storeDir was given. */
  store: ContentStore | undefined
  peerId: string
  /** Dialable addresses, each ending in /p2p/PEER_ID. */
  multiaddrs: () => string[]
  /** Overlay status plus the store's item count. */
  status: () => OverlayStatus & { items: number }
  /** Leaves the overlay, stops the node, closes the store. */
  stop: () => Promise<void>
}

/** Starts a peer (and joins the overlay). */
export async function startPeer (init: PeerInit = {}): Promise<Peer> {
  const resolver = new AsnResolver(init.prefixTablePaths?.length === 0 ? undefined : loadPrefixTableFiles(init.prefixTablePaths))
  const store = init.storeDir != null ? await ContentStore.open(init.storeDir) : undefined
  const node = await createSwarmNode({ listenMultiaddrs: init.listenMultiaddrs ?? ['/ip4/0.0.0.0/tcp/0'], privateKey: init.privateKey, ...init.node })
  const shutdown = new AbortController()
  const overlay = new OverlayService(node, {
    ...init.overlay,
    role: init.role ?? init.overlay?.role ?? 'auto',
    bootstrap: init.bootstrap ?? init.overlay?.bootstrap,
    publicIp: init.publicIp ?? init.overlay?.publicIp,
    proximity: init.proximity ?? init.overlay?.proximity,
    asnResolver: resolver
  })
  const status = (): OverlayStatus & { items: number } => ({ ...overlay.status(), items: store?.list().length ?? 0 })
  try {
    if (store != null) {
      await registerManifestProtocol(node, store)
      await registerXferProtocol(node, store, { signal: shutdown.signal })
    }
    await registerStatusProtocol(node, status)
    await overlay.start()
    for (const id of store?.list() ?? []) overlay.announce(id)
  } catch (err) {
    await overlay.stop().catch(() => {})
    try { await node.stop() } catch {}
    await store?.close()
    throw err
  }
  return {
    node,
    overlay,
    store,
    peerId: node.peerId.toString(),
    multiaddrs: () => node.getMultiaddrs().map(a => a.toString()),
    status,
    stop: async () => {
      shutdown.abort()
      await overlay.stop()
      await node.stop()
      await store?.close()
    }
  }
}
