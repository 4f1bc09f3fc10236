/**
 * A swarm peer: one libp2p node that downloads from many sources at once
 * and serves what it holds (its store and its downloads in progress) to
 * other peers under an upload policy (slots, rate limit).
 *
 * Downloading: providers come from a ProviderFinder (the overlay's
 * findProviders; tests and `get --peer` pass a static one), are ranked with
 * rankPeers (same AS, shared prefix, RTT, tie-break; `proximity: false`
 * drops the first two), the best `maxPeers` become sources with a
 * preference from their rank, origins are added as fallback sources, and
 * the finder is asked again every `refindIntervalMs` for peers that joined
 * later. The piece picker (DownloadSession) does the rest: peers before
 * origins, nearer peers first, choked sources skipped.
 */
import type { ConnectionKind } from '../net/piece-connection.js'
import type { PrivateKey } from '@libp2p/interface'
import type { ContentId } from '../core/content/content-id.js'
import { parseContentId } from '../core/content/content-id.js'
import type { VerifiedManifest } from '../core/content/manifest.js'
import { AsnResolver } from '../core/proximity/asn-resolver.js'
import { createSwarmNode, type SwarmNode } from '../net/swarm-node.js'
import { registerManifestProtocol } from '../net/manifest-protocol.js'
import { registerXferProtocol, type XferServingLimits } from '../net/xfer-server.js'
import { MANIFEST_PROTOCOL, XFER_PROTOCOL } from '../net/protocol-ids.js'
import { SwarmUploadGate, type SwarmUploadGateInit } from '../net/upload-gate.js'
import { DEFAULT_PEER_UPLOAD_SLOTS } from '../core/swarm/upload-policy.js'
import { MAX_ALTERNATIVE_ADDRS } from '../net/xfer-codec.js'
import { AccountingGate, type ServingCounts } from './accounting-gate.js'
import type { ProviderFinder, ProviderInfo } from './provider-finder.js'
import { peerIdOf, sourceLabel, withPeerId, withoutPeerId } from './source-addresses.js'
import { BusyAlternatives, DEFAULT_ALTERNATIVES_REFRESH_MS } from '../core/swarm/busy-alternatives.js'
import { ContentStore } from '../store/content-store.js'
import type { ContentProvider } from '../net/content-provider.js'
import { downloadContent, DownloadFailedError, type DownloadInit, type DownloadResult, type DownloadSource } from './download-content.js'
import { ProximityRanker } from './proximity-ranker.js'
import { DEFAULT_MAX_PEERS, SourceChooser } from '../core/swarm/source-admission.js'
import { SwarmContentProvider } from './swarm-provider.js'
import { SelfAddressTracker } from './self-address.js'
import { sendDeliveryReportToFirst } from './delivery-report-sender.js'
import { isWebSeedAddress, webSeedHostMultiaddr } from './web-seed-source.js'
import type { DeliveryVerdict } from '../core/accounting/delivery-ledger.js'
import type { AltoCosts } from '../core/proximity/alto-map.js'
import { OriginFailover, type OriginFailoverEvent } from '../core/fleet/origin-failover.js'
import type { FleetOriginsInit } from './fleet-origins.js'
import { classifyLocality, addLocalityCounts, emptyLocalityBytes, type LocalityByteCounts, type LocalityClass, type LocalityPlace } from '../core/proximity/locality.js'

export type { ProviderInfo, ProviderFinder } from './provider-finder.js'

/** Default peer sources per download (origins come on top). */
export { DEFAULT_MAX_PEERS, DEFAULT_MAX_FAR_PEERS } from '../core/swarm/source-admission.js'
/** Default time between provider finder queries during a download, ms (in the core, where the simulator uses it too). */
export { DEFAULT_REFIND_INTERVAL_MS } from '../core/swarm/source-admission.js'
/** Default requests in flight per source in a swarm download. */
export const DEFAULT_SWARM_REQUESTS_PER_SOURCE = 8
/** Default regular upload slots of a peer (in the core, where the simulator's peers use it too). */
export { DEFAULT_PEER_UPLOAD_SLOTS } from '../core/swarm/upload-policy.js'

/** Options for startSwarmPeer. */
export interface SwarmPeerInit {
  /** Store directory for completed downloads (and items served). Default: none (downloads are served from their output files). */
  storeDir?: string
  /** An open store instead of storeDir. */
  store?: ContentStore
  /**
   * Serve this instead of the store and the downloads in progress (an
   * origin seeder serving a wrapped store, e.g. a test's slow or corrupting
   * provider); still under the upload gate. Default: the store plus the
   * downloads (SwarmContentProvider).
   */
  provider?: ContentProvider
  /**
   * A running libp2p node to serve and download on (the peer runtime
   * passes the node its overlay uses: one node per process). The swarm
   * peer registers its protocols on it and does not stop it. Default: a
   * node of its own on `listenMultiaddrs`.
   */
  node?: SwarmNode
  /** libp2p listen multiaddrs when it creates its own node. Default `/ip4/127.0.0.1/tcp/0`. */
  listenMultiaddrs?: string[]
  /** libp2p private key. Default: a fresh one. */
  privateKey?: PrivateKey
  /** Address → AS for ranking. Default: empty (shared prefix and tie-break only). */
  asnResolver?: AsnResolver
  /** This peer's public IP (`--public-ip`), for ranking; fixed when given. Default: learned while running (identify's observed addresses, else the listen addresses; see self-address.ts). */
  selfAddress?: string
  /** Rank by AS and prefix (downloads and uploads). Default true. */
  proximity?: boolean
  /** An ISP's ALTO maps (RFC 7285): lower cost first among peers of equal AS/prefix nearness (downloads and uploads). Default none. */
  alto?: AltoCosts
  /** Upload policy: regular slots (default 4), optimistic slots (default 1), periods, `uploadBytesPerSec` (default unlimited), `busyThresholdRequesters`. */
  upload?: Omit<SwarmUploadGateInit, 'rank' | 'isNear'> & {
    /** Limits of the xfer server that protect this uploader from requesters (frame deadline, stall and stream caps; see XferProtocolInit for defaults). */
    xfer?: XferServingLimits
  }
  /** Called when this peer starts holding an item (store items at start, each download once its manifest verified): the overlay's `announce`. */
  announce?: (contentId: ContentId) => void | Promise<void>
  /** This peer is a publisher's origin seeder: its xfer handshake says so. Default false. */
  origin?: boolean
  /** Called when a download announced with `announce` failed and this peer holds none of the item: the overlay's `withdraw`. Default: nothing. */
  withdraw?: (contentId: ContentId) => void
  /**
   * Where a busy origin finds other holders to name in its chokes and
   * spread rejects ("busy, try these peers"; the overlay's findProviders).
   * Only used with `upload.busyThresholdRequesters`. Default: none named.
   */
  alternativesFinder?: ProviderFinder
  /** Send a delivery report to an origin of each completed download (informative; see core/accounting/delivery-ledger.ts). Default true. */
  deliveryReports?: boolean
}


/** Options for SwarmPeer.download. */
export interface SwarmDownloadInit extends Omit<DownloadInit, 'node' | 'onSessionStarted' | 'onPartialOpened'> {
  /** Where providers come from. Default: none (only `sources`). */
  finder?: ProviderFinder
  /** Extra sources given directly (e.g. `get --peer`). */
  sources?: DownloadSource[]
  /** Peer sources at most (origins come on top). Default 8. */
  maxPeers?: number
  /** Far peer sources at most when this node knows its AS (see core/swarm/source-admission.ts). Default DEFAULT_MAX_FAR_PEERS (4). */
  maxFarPeers?: number
  /** Time between finder queries, ms. Default 5 s. */
  refindIntervalMs?: number
  /**
   * With a finder and no `sources`: how long to keep asking it (every
   * FIRST_FIND_RETRY_MS) while it finds nobody, ms; a lookup can come back
   * empty while the overlay recovers from a lost supernode. Default 30 s.
   */
  findTimeoutMs?: number
  /**
   * A fleet's origins for this item in rendezvous order (recordOriginOrder):
   * used one at a time, the next added when the current one is lost or the
   * download stalls (core/fleet/origin-failover.ts). Default none.
   */
  fleetOrigins?: FleetOriginsInit
}

/** How often a download with fleet origins checks for a stall, ms (the rule's own period is seconds). */
const FAILOVER_CHECK_MS = 250

/** Default of SwarmDownloadInit.findTimeoutMs. */
export const DEFAULT_FIND_TIMEOUT_MS = 30_000
/** Pause between finder queries while the first one finds nobody, ms. */
export const FIRST_FIND_RETRY_MS = 500

/** The finder found no provider within `findTimeoutMs`. */
export class NoProvidersError extends Error {
  override name = 'NoProvidersError'
  readonly code = 'ERR_NO_PROVIDERS'
}

/** Verified piece bytes of one download by the kind of source (origin seeder or peer) and transit class. */
export interface DeliveryBytes {
  origin: LocalityByteCounts
  peer: LocalityByteCounts
}

/** What a swarm download did, with bytes per source. */
export interface SwarmDownloadResult extends DownloadResult {
  /** Verified piece bytes fetched from each source address. */
  bytesBySource: Map<string, number>
  /** Verified piece bytes fetched, by source kind and transit class (core/proximity/locality.ts). */
  bytesByKind: DeliveryBytes
  /** Verified piece bytes fetched by the kind of connection they came over: direct (we dialled), reverse (direct, the source dialled us back: it is behind a NAT) or relayed (only a relay with `relayPieces` carries pieces). */
  bytesByConnection: Record<ConnectionKind, number>
  /** The delivery report sent to an origin for this download: its verdict, or undefined when none was sent (no origin known, nothing fetched, reports off) or no origin answered. Settles within MAX_DELIVERY_REPORT_TARGETS x DEFAULT_DELIVERY_TIMEOUT_MS (delivery-report-sender.ts). */
  deliveryReport: Promise<DeliveryVerdict | undefined>
  /** Moves to the next fleet origin, with the time each cost (empty without `fleetOrigins` or when none was needed). */
  failovers: OriginFailoverEvent[]
}

/** Bytes moved by a swarm peer, split by the kind of the other side. */
export interface SwarmTraffic {
  /** Verified piece bytes downloaded from peers (not origin seeders). */
  downloadedFromPeersBytes: number
  /** Verified piece bytes downloaded from origin seeders. */
  downloadedFromSeedersBytes: number
  /** Piece bytes uploaded to other peers. */
  uploadedBytes: number
  /** Verified piece bytes downloaded, by transit class between this peer and the source (core/proximity/locality.ts). */
  downloadedByLocality: LocalityByteCounts
  /** Piece bytes uploaded, by transit class between this peer and the requester. */
  uploadedByLocality: LocalityByteCounts
}

/** One item a swarm peer holds or is downloading, with the peers involved. */
export interface SwarmItemStats {
  contentId: ContentId
  /** 'downloading' while a download runs, else 'held' (store or finished download). */
  state: 'downloading' | 'held'
  /** Peer sources of the running download (origins not counted). */
  peerSources: number
  /** Origin seeders among the running download's sources. */
  seederSources: number
  /** Providers the finder reported last (peers and origins). */
  providersFound: number
  /** Requesters of this item connected to us now. */
  uploadingTo: number
  /** Piece bytes of this item uploaded since start. */
  uploadedBytes: number
}

/** Largest number of items listed in SwarmPeer.stats (the status document is bounded). */
export const MAX_STATS_ITEMS = 32

/** A running swarm peer. */
export interface SwarmPeer {
  node: SwarmNode
  peerId: string
  /** Dialable addresses, each ending in /p2p/PEER_ID. */
  multiaddrs: string[]
  provider: SwarmContentProvider
  gate: SwarmUploadGate
  ranker: ProximityRanker
  /** Downloads an item from many sources while serving it; completed items join the store. */
  download: (contentId: string, outputPath: string, init?: SwarmDownloadInit) => Promise<SwarmDownloadResult>
  /** This peer as a provider (for static finders in tests and benchmarks). */
  info: () => ProviderInfo
  /** Bytes up and down (by source kind) and the items held or downloading, at most MAX_STATS_ITEMS. */
  stats: () => { traffic: SwarmTraffic, items: SwarmItemStats[] }
  /** Counts of the xfer server's work since start. */
  serving: () => Readonly<ServingCounts>
  /** Stops serving and closes what it opened (its own node too, not a node it was given). */
  stop: () => Promise<void>
}

/** Starts a swarm peer (see the file's comment). */
export async function startSwarmPeer (init: SwarmPeerInit = {}): Promise<SwarmPeer> {
  const opened = init.store == null && init.storeDir != null ? await ContentStore.open(init.storeDir) : undefined
  const store = init.store ?? opened
  const provider = new SwarmContentProvider(store)
  const listen = init.listenMultiaddrs ?? ['/ip4/127.0.0.1/tcp/0']
  const node = init.node ?? await createSwarmNode({ listenMultiaddrs: listen, privateKey: init.privateKey })
  const ownNode = init.node == null
  const peerId = node.peerId.toString()
  // Our place follows what we learn: --public-ip, else how identify says others see us, else our listen address.
  let ranker: ProximityRanker | undefined
  const selfAddress = new SelfAddressTracker(node, { overrideIp: init.selfAddress, onChange: a => { ranker?.setSelfAddress(a) } })
  ranker = new ProximityRanker({
    resolver: init.asnResolver,
    selfAddress: selfAddress.address,
    selfPeerId: peerId,
    proximity: init.proximity,
    alto: init.alto
  })
  // Which holders a busy origin names, and when it finds them again, is the core's rule (BusyAlternatives): the simulator's origins use it too.
  const altFinder = init.alternativesFinder
  const alternatives = altFinder != null && init.upload?.busyThresholdRequesters != null
    ? new BusyAlternatives<ProviderInfo>({ self: peerId, peerIdOf: p => p.peerId, isOrigin: p => p.isOrigin === true })
    : undefined
  const findAlternatives = (finder: ProviderFinder, contentId: string): void => {
    void finder(contentId as ContentId, { signal: AbortSignal.timeout(DEFAULT_ALTERNATIVES_REFRESH_MS) }).then(found => {
      // A holder with no address cannot be named on the wire.
      if (alternatives?.found(Date.now(), contentId, found.filter(p => p.multiaddrs.length > 0)) === true) gate.offerAlternatives(contentId)
    }, () => { alternatives?.findFailed(Date.now(), contentId) })
  }
  const { xfer: xferLimits, ...uploadPolicy } = init.upload ?? {}
  const gate: SwarmUploadGate = new SwarmUploadGate({
    regularSlots: DEFAULT_PEER_UPLOAD_SLOTS,
    ...uploadPolicy,
    rank: requesters => ranker.rank(requesters, r => ({ peerId: r.peerId, addr: r.remoteAddr })),
    isNear: r => ranker.proximity && ranker.sameAs(ranker.place(r.peerId, r.remoteAddr)),
    asnOf: r => ranker.place(r.peerId, r.remoteAddr).asn,
    alternatives: alternatives == null || altFinder == null
      ? undefined
      : (r, busy) => {
        const requester = ranker.place(r.peerId, r.remoteAddr)
        const { named, findDue } = alternatives.namedTo(Date.now(), r.contentId.toString(), r.peerId, busy, holders => ranker.rankFrom(requester, holders, p => ({ peerId: p.peerId, addr: p.multiaddrs[0] })))
        if (findDue) findAlternatives(altFinder, r.contentId.toString())
        return named.map(p => ({ peerId: p.peerId, multiaddrs: p.multiaddrs.map(withoutPeerId).slice(0, MAX_ALTERNATIVE_ADDRS) }))
      }
  })
  const accounting = new AccountingGate(gate, r => ranker.place(r.peerId, r.remoteAddr), () => ranker.self)
  const traffic = { fromPeers: 0, fromSeeders: 0, byLocality: emptyLocalityBytes() }
  /** Running downloads: their sources and the last finder answer's size. */
  const running = new Map<string, { peers: Set<string>, origins: Set<string>, providersFound: number }>()
  const shutdown = new AbortController()
  const served: ContentProvider = init.provider ?? provider
  await registerManifestProtocol(node, served)
  await registerXferProtocol(node, served, { ...xferLimits, signal: shutdown.signal, gate: accounting, origin: init.origin === true })
  const multiaddrs = node.getMultiaddrs().map(a => a.toString())
  const announce = (id: ContentId): void => {
    if (init.announce == null) return
    void Promise.resolve().then(async () => { await init.announce?.(id) }).catch(() => {})
  }
  for (const id of store?.list() ?? []) announce(id)

  // Reports in flight, so stop can let them finish (each is bounded by its timeout).
  const reporting = new Set<Promise<unknown>>()
  const reportDelivery = async (contentId: ContentId, bytes: DeliveryBytes, origins: string[]): Promise<DeliveryVerdict | undefined> => {
    const total = addLocalityCounts(bytes.origin, bytes.peer)
    if (init.deliveryReports === false || origins.length === 0 || Object.values(total).every(n => n === 0)) return undefined
    const sending = sendDeliveryReportToFirst(node, origins, { contentId, ...bytes }, { signal: shutdown.signal }).catch(() => undefined)
    reporting.add(sending)
    void sending.finally(() => reporting.delete(sending))
    return await sending
  }

  const download = async (contentIdText: string, outputPath: string, dl: SwarmDownloadInit = {}): Promise<SwarmDownloadResult> => {
    const contentId = parseContentId(contentIdText)
    const maxPeers = dl.maxPeers ?? DEFAULT_MAX_PEERS
    const bytesBySource = new Map<string, number>()
    const bytesByKind: DeliveryBytes = { origin: emptyLocalityBytes(), peer: emptyLocalityBytes() }
    const bytesByConnection: Record<ConnectionKind, number> = { direct: 0, reverse: 0, relayed: 0 }
    const kindOfSource = new Map<string, ConnectionKind>()
    // A source's place, once per address (bounded by the download's sources).
    const sourcePlaces = new Map<string, LocalityPlace>()
    const localityOf = (source: string): LocalityClass => {
      let place = sourcePlaces.get(source)
      if (place == null) { place = ranker.place(peerIdOf(source) ?? source, isWebSeedAddress(source) ? webSeedHostMultiaddr(source) : source); sourcePlaces.set(source, place) }
      return classifyLocality(ranker.self, place)
    }
    const local = new AbortController()
    const signal = dl.signal == null ? local.signal : AbortSignal.any([dl.signal, local.signal])
    if (running.has(contentId)) throw new TypeError(`already downloading ${contentId}`)
    const live = { peers: new Set<string>(), origins: new Set<string>(), providersFound: 0 }
    running.set(contentId, live)
    const originAddrs = new Set<string>()

    // Which providers become sources, and when to find again, is the core's rule (SourceChooser): the simulator's downloads use it too.
    const chooser = new SourceChooser({ self: peerId, maxPeers, maxFarPeers: dl.maxFarPeers, knowsOwnAs: ranker.proximity && ranker.self.asn !== 0, proximity: ranker.proximity, refindIntervalMs: dl.refindIntervalMs })
    const near = (p: ProviderInfo): boolean => ranker.proximity && ranker.sameAs(ranker.place(p.peerId, p.multiaddrs[0]))
    /** Peer sources the chooser took, with whether they were near (what `lost` needs to free their place). */
    const chosenPeers = new Map<string, boolean>()
    /** New sources from `providers` (origins, then peers nearest first). */
    const choose = (providers: ProviderInfo[]): DownloadSource[] => {
      const fresh = providers.filter(p => p.multiaddrs.length > 0)
      const ranked = [...fresh.filter(p => p.isOrigin === true), ...ranker.rank(fresh.filter(p => p.isOrigin !== true), p => ({ peerId: p.peerId, addr: p.multiaddrs[0] }))]
      const byId = new Map(ranked.map(p => [p.peerId, p]))
      const out: DownloadSource[] = []
      for (const c of chooser.choose(ranked.map(p => ({ peerId: p.peerId, origin: p.isOrigin === true, near: near(p) })))) {
        const p = byId.get(c.peerId) as ProviderInfo
        // One address names the source (and places it for transit accounting); the download dials any of them (a NATed peer through its relays).
        const address = withPeerId(sourceLabel(p.multiaddrs), p.peerId)
        const dialAddrs = p.multiaddrs.map(a => withPeerId(a, p.peerId))
        if (c.isOrigin) {
          live.origins.add(p.peerId)
          originAddrs.add(address)
          out.push({ address, isOrigin: true, dialAddrs })
        } else {
          live.peers.add(p.peerId)
          chosenPeers.set(p.peerId, near(p))
          out.push({ address, preference: c.preference, dialAddrs })
        }
      }
      return out
    }
    const find = async (): Promise<ProviderInfo[]> => {
      if (dl.finder == null) return []
      try {
        const found = await dl.finder(contentId, { signal })
        live.providersFound = found.length
        return found
      } catch { return [] }
    }

    // A source given directly counts as a peer until its handshake says it is an origin
    // (its isOrigin is how the user named it: a hint for the piece picker, not what it is).
    for (const s of dl.sources ?? []) {
      const address = s.address.toString()
      const id = peerIdOf(address) ?? address
      chooser.exclude(id)
      live.peers.add(id)
    }
    // A fleet's origins: the first now, the others on failover (the core's rule); they are ours to add, not the chooser's.
    const fleet = dl.fleetOrigins
    const failover = fleet == null ? undefined : new OriginFailover({ order: fleet.origins.map(o => o.peerId), failoverAfterMs: fleet.failoverAfterMs })
    const fleetAddress = new Map(fleet?.origins.map(o => [o.peerId, withPeerId(o.multiaddrs[0], o.peerId)]) ?? [])
    for (const id of fleetAddress.keys()) chooser.exclude(id)
    const fleetFirst = failover == null ? [] : [{ address: fleetAddress.get(failover.start(Date.now())) as string, isOrigin: true }]
    /** Failover targets chosen before the session could take sources (the manifest step). */
    const pendingOrigins: string[] = []
    const failTo = (next: string | undefined): void => {
      if (next === undefined) return
      const address = fleetAddress.get(next) as string
      if (addSource == null) pendingOrigins.push(address); else addSource({ address, isOrigin: true })
    }
    const originGone = (address: string): void => { failTo(failover?.sourceLost(Date.now(), peerIdOf(address) ?? address)) }
    let initial = [...fleetFirst, ...(dl.sources ?? []), ...choose(await find())]
    if (initial.length === 0 && dl.finder != null) {
      const deadline = Date.now() + (dl.findTimeoutMs ?? DEFAULT_FIND_TIMEOUT_MS)
      while (initial.length === 0 && Date.now() < deadline && !signal.aborted) {
        await new Promise(resolve => setTimeout(resolve, FIRST_FIND_RETRY_MS))
        initial = choose(await find())
      }
      if (initial.length === 0) {
        running.delete(contentId)
        if (signal.aborted) throw signal.reason
        throw new NoProvidersError(`no provider of ${contentId} found within ${dl.findTimeoutMs ?? DEFAULT_FIND_TIMEOUT_MS} ms`)
      }
    }
    let manifest: VerifiedManifest | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    let addSource: ((s: DownloadSource) => void) | undefined
    /** Starts the refind chain again (set once the session started; undefined without a finder). */
    /** Starts a find in `afterMs` (set once the session started; undefined without a finder). */
    let scheduleFind: ((afterMs: number) => void) | undefined
    let dropSource: ((address: string, reason: string) => void) | undefined
    /**
     * A chosen peer source is gone (closed, or never opened): forgets it and
     * starts a find when the chooser's `rule` says when (the simulator's
     * exchange asks the same rules).
     */
    const releaseChosen = (address: string, rule: (id: string, near: boolean) => number | undefined): void => {
      const id = peerIdOf(address) ?? address
      const wasNear = chosenPeers.get(id)
      if (wasNear === undefined) return
      chosenPeers.delete(id)
      live.peers.delete(id)
      const afterMs = rule(id, wasNear)
      if (afterMs !== undefined) scheduleFind?.(afterMs)
    }
    const failoverTimer = failover == null
      ? undefined
      : setInterval(() => {
        const stalled = failover.timer(Date.now())
        if (stalled === undefined) return
        dropSource?.(fleetAddress.get(stalled.drop) as string, 'origin stalled: no piece within the failover time')
        failTo(stalled.add)
      }, FAILOVER_CHECK_MS)
    failoverTimer?.unref?.()
    try {
      const result = await downloadContent(contentId, outputPath, initial, {
        ...dl,
        manifestFallbacks: [...(dl.manifestFallbacks ?? []), ...[...fleetAddress.values()].filter(a => a !== fleetFirst[0]?.address)],
        onSourceError: (address, err) => {
          originGone(address)
          // A chosen peer that never connected: the chooser frees its place and may try it again (SourceChooser.connectFailed).
          if (!kindOfSource.has(address)) releaseChosen(address, (id, near) => chooser.connectFailed(id, near))
          dl.onSourceError?.(address, err)
        },
        // Fewer requests per source than a one-source download: the first
        // source to connect must not take every piece before the others
        // connect, and pieces spread over more peers. A caller that set a byte budget instead (a streaming download's shallow pipeline) keeps it.
        maxRequestsPerSource: dl.maxRequestsPerSource ?? (dl.inFlightBytesPerSource != null ? undefined : DEFAULT_SWARM_REQUESTS_PER_SOURCE),
        // Peers that start together must not all ask for piece 0, 1, 2, ... (the origin would send each piece to each of them).
        random: dl.random ?? Math.random,
        stripeKey: dl.stripeKey ?? peerId,
        signal,
        node,
        onManifest: m => { manifest = m; announce(m.contentId); dl.onManifest?.(m) },
        onSourceConnected: (address, info) => {
          kindOfSource.set(address, info.connectionKind)
          if (info.announcedOrigin) {
            originAddrs.add(address)
            const id = peerIdOf(address) ?? address
            if (live.peers.delete(id)) live.origins.add(id)
          }
          dl.onSourceConnected?.(address, info)
        },
        onSourceClosed: address => {
          originGone(address)
          // A peer source left: the chooser frees its place, and a find runs soon if none is due (as the simulator's downloads do).
          releaseChosen(address, (id, near) => chooser.sourceClosed(id, near))
        },
        onPartialOpened: partial => { if (manifest != null) provider.addDownload(manifest, partial) },
        onPieceStored: (index, source, lengthBytes) => {
          provider.pieceStored(contentId, index)
          bytesBySource.set(source, (bytesBySource.get(source) ?? 0) + lengthBytes)
          bytesByConnection[kindOfSource.get(source) ?? 'direct'] += lengthBytes
          const fromOrigin = originAddrs.has(source)
          if (fromOrigin) traffic.fromSeeders += lengthBytes; else traffic.fromPeers += lengthBytes
          const locality = localityOf(source)
          traffic.byLocality[locality] += lengthBytes
          bytesByKind[fromOrigin ? 'origin' : 'peer'][locality] += lengthBytes
          const from = peerIdOf(source)
          if (from != null) gate.recordReceived(from, lengthBytes)
          failover?.pieceReceived(Date.now(), from ?? source)
          dl.onPieceStored?.(index, source, lengthBytes)
        },
        // A busy origin's "try these peers": ranked and admitted like the finder's answers.
        onAlternatives: alts => { for (const s of choose(alts)) addSource?.(s) },
        onSessionStarted: (add, drop) => {
          addSource = add
          dropSource = drop
          for (const address of pendingOrigins.splice(0)) add({ address, isOrigin: true })
          if (dl.finder == null) return
          // Find again while short of peers: soon after a useful answer, less and less often after empty ones (SourceChooser.refindAfter).
          const refindAfter = (added: readonly DownloadSource[]): void => {
            const afterMs = chooser.answered(added)
            if (afterMs !== undefined) scheduleFindIn(afterMs)
          }
          // The chooser knows a find is pending until its answer reaches refindAfter: a lost source starts no second chain meanwhile.
          const scheduleFindIn = (afterMs: number): void => {
            if (signal.aborted) return
            timer = setTimeout(() => {
              void find().then(found => {
                timer = undefined
                const fresh = choose(found)
                for (const s of fresh) add(s)
                refindAfter(fresh)
              })
            }, afterMs)
            timer.unref?.()
          }
          refindAfter(initial)
          scheduleFind = scheduleFindIn
        }
      })
      await provider.completeDownload(contentId, result.outputPath)
      // Reports go over libp2p, never to a web seed; in a fleet to the origin in use first (after a failover the first may be dead or hung), then the item's other owners (the core's reportOrder).
      const reportTo = failover != null ? failover.reportOrder().map(id => fleetAddress.get(id) as string) : [...originAddrs].filter(a => !isWebSeedAddress(a))
      const deliveryReport = reportDelivery(contentId, bytesByKind, reportTo)
      return { ...result, bytesBySource, bytesByKind, bytesByConnection, deliveryReport, failovers: failover?.events ?? [] }
    } catch (err) {
      if (manifest != null) {
        await provider.removeDownload(contentId)
        // Announced when the manifest verified: a failed download must not leave others asking us for it.
        if (!provider.has(contentId)) init.withdraw?.(contentId)
      }
      throw err
    } finally {
      if (timer != null) clearTimeout(timer)
      failover?.finish()
      if (failoverTimer != null) clearInterval(failoverTimer)
      running.delete(contentId)
      local.abort()
    }
  }

  return {
    node,
    peerId,
    multiaddrs,
    provider,
    gate,
    ranker,
    download,
    info: () => ({ peerId, multiaddrs }),
    stats: () => {
      const ids = new Set<string>([...running.keys(), ...provider.contentIds()])
      const items: SwarmItemStats[] = [...ids].slice(0, MAX_STATS_ITEMS).map(id => {
        const r = running.get(id)
        return {
          contentId: id as ContentId,
          state: r != null ? 'downloading' : 'held',
          peerSources: r?.peers.size ?? 0,
          seederSources: r?.origins.size ?? 0,
          providersFound: r?.providersFound ?? 0,
          uploadingTo: accounting.requesters.get(id) ?? 0,
          uploadedBytes: accounting.uploaded.get(id) ?? 0
        }
      })
      return {
        traffic: {
          downloadedFromPeersBytes: traffic.fromPeers,
          downloadedFromSeedersBytes: traffic.fromSeeders,
          uploadedBytes: gate.bytesUploaded,
          downloadedByLocality: { ...traffic.byLocality },
          uploadedByLocality: { ...accounting.uploadedByLocality }
        },
        items
      }
    },
    serving: () => accounting.counts,
    stop: async () => {
      await Promise.all(reporting)
      shutdown.abort()
      selfAddress.stop()
      gate.stop()
      if (ownNode) await node.stop()
      else await Promise.all([MANIFEST_PROTOCOL, XFER_PROTOCOL].map(async p => { await node.unhandle(p) }))
      await provider.close()
      await opened?.close()
    }
  }
}

/** A static ProviderFinder over a fixed (or growing) list. */
export function staticFinder (providers: ProviderInfo[] | (() => ProviderInfo[])): ProviderFinder {
  return async () => typeof providers === 'function' ? providers() : providers
}

export { DownloadFailedError }
export type { ServingCounts }
