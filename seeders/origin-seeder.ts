/**
 * An origin seeder: serves every item of a content store over libp2p
 * (manifest and xfer protocols) until stopped.
 */
import type { PrivateKey } from '@libp2p/interface'
import { ContentStore } from '../src/store/content-store.js'
import { createSwarmNode, type SwarmNode } from '../src/net/swarm-node.js'
import { registerManifestProtocol } from '../src/net/manifest-protocol.js'
import { registerXferProtocol } from '../src/net/xfer-server.js'
import type { ContentProvider } from '../src/net/content-provider.js'
import { startWebSeed, type WebSeed } from './web-seed.js'
import { OverlayService, type OverlayInit } from '../src/net/dht-service.js'
import { registerStatusProtocol } from '../src/net/status-protocol.js'
import { AsnResolver } from '../src/core/proximity/asn-resolver.js'
import { loadPrefixTableFiles } from '../src/client/prefix-table-files.js'

/** Options for startOriginSeeder. */
export interface OriginSeederInit {
  /** The content store directory to serve (created if missing). Ignored when `store` is given. */
  storeDir?: string
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
  /**
   * Overlay peers to join through (multiaddrs ending in /p2p/PEER_ID). A
   * seeder is always a permanent DHT member (role 'seeder') and announces
   * every item it serves; without bootstrap it waits for others to join it.
   */
  bootstrap?: string[]
  /** Prefix-table files for proximity ranking of the leaves it indexes. Default none (AS unknown). */
  prefixTablePaths?: string[]
  /** Further overlay options (timers, limits); role is always 'seeder'. */
  overlay?: OverlayInit
}

/** A running origin seeder. */
export interface OriginSeeder {
  node: SwarmNode
  peerId: string
  /** Dialable addresses, each ending in /p2p/PEER_ID. */
  multiaddrs: string[]
  /** Base URL of the HTTP web seed, when `http` was given. */
  httpUrl?: string
  /** Content ids served (when serving a ContentStore). */
  contentIds: string[]
  /** Store folders not served because they failed to load (corrupt manifest, truncated data), with why. */
  skipped: Array<{ entry: string, reason: string }>
  /** Its overlay membership (DHT + index): status(), findProviders, events. */
  overlay: OverlayService
  /** Stops the node and closes the store (if opened here). */
  stop: () => Promise<void>
}

/** Starts serving a store over libp2p. */
export async function startOriginSeeder (init: OriginSeederInit = {}): Promise<OriginSeeder> {
  let opened: ContentStore | undefined
  let provider = init.store
  if (provider == null) {
    if (init.storeDir == null) throw new TypeError('startOriginSeeder needs storeDir or store')
    opened = await ContentStore.open(init.storeDir)
    provider = opened
  }
  const node = await createSwarmNode({ listenMultiaddrs: init.listenMultiaddrs ?? ['/ip4/127.0.0.1/tcp/0'], privateKey: init.privateKey })
  const shutdown = new AbortController()
  await registerManifestProtocol(node, provider)
  await registerXferProtocol(node, provider, { signal: shutdown.signal })
  let web: WebSeed | undefined
  if (init.http != null) {
    const store = opened ?? (provider instanceof ContentStore ? provider : undefined)
    if (store == null) throw new TypeError('an HTTP web seed needs a ContentStore to serve')
    try {
      web = await startWebSeed({ store, host: init.http.host, port: init.http.port, signal: shutdown.signal })
    } catch (err) {
      shutdown.abort()
      await node.stop()
      await opened?.close()
      throw err
    }
  }
  const contentIds = opened?.list() ?? (provider instanceof ContentStore ? provider.list() : [])
  const overlay = new OverlayService(node, {
    ...init.overlay,
    role: 'seeder',
    bootstrap: init.bootstrap ?? init.overlay?.bootstrap,
    asnResolver: init.overlay?.asnResolver ?? new AsnResolver(init.prefixTablePaths != null && init.prefixTablePaths.length > 0 ? loadPrefixTableFiles(init.prefixTablePaths) : undefined)
  })
  await overlay.start()
  for (const id of contentIds) overlay.announce(id)
  await registerStatusProtocol(node, () => ({ ...overlay.status(), items: contentIds.length }))
  return {
    node,
    peerId: node.peerId.toString(),
    multiaddrs: node.getMultiaddrs().map(a => a.toString()),
    httpUrl: web?.url,
    contentIds,
    skipped: opened?.skipped ?? (provider instanceof ContentStore ? provider.skipped : []),
    overlay,
    stop: async () => {
      await web?.close()
      shutdown.abort()
      await overlay.stop()
      await node.stop()
      await opened?.close()
    }
  }
}
