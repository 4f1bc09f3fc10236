/**
 * The parameters of the swarmcdn protocol in a scenario (`protocol.params`),
 * with their defaults: the real peer's and client's defaults wherever the
 * setting exists there (one default per option), and the simulator's own
 * for what only the model has (churn detection delay, join spread, piece
 * granularity).
 */
import { DEFAULT_MAX_FAR_PEERS, DEFAULT_MAX_PEERS, DEFAULT_REFIND_INTERVAL_MS } from '../../src/core/swarm/source-admission.js'

const LEAF_DISCOVERY = ['seeders', 'shipped-list']

/** protocol.params of a swarmcdn scenario; every field optional (defaults in swarmcdnParams). */
export interface SwarmcdnParams {
  /** Rank by AS and shared prefix (false: tie keys only, for comparison). Default true. */
  proximity: boolean
  /** Supernode tier on; false = every peer is a DHT member and queries the DHT itself. Default true. */
  supernodes: boolean
  /** Kademlia k. Default 20. */
  k: number
  /** Lookup parallelism. Default 3. */
  alpha: number
  /** Closest candidates that must have answered for a get-providers lookup to end (DhtNode providerLookupResiliency; k = 20 is the Kademlia paper's rule). Default 3. */
  providerLookupResiliency: number
  /** DHT/tier request timeout, ms. Default 5000. */
  requestTimeoutMs: number
  /** Leaf keep-alive interval, s (core default 15 s). Longer here because connection loss reaches the core as peerDisconnected (see disconnectDetectS) and a demoted supernode refuses the next request at once (not-a-dht-node); keep-alives then only refresh the supernode's leaf timeout (3x). Default 1800 (600 cost a quarter of all events at 10^5 peers). */
  keepAliveIntervalS: number
  /** Delay before the peers of a node that went offline see its connection close (peerDisconnected), s. Default 30 (yamux's keep-alive ping interval: what a silent crash costs; a clean exit is faster). */
  disconnectDetectS: number
  /** Supernodes a leaf attaches to. Default 3. */
  targetAttachments: number
  /** Supernodes a leaf remembers. Default 16 (core default 64; memory at 10^6 peers). */
  maxCandidates: number
  /** Leaves per supernode before attach-busy. Default 200. */
  maxLeaves: number
  /** SupernodePolicy check interval, s. Default 600. */
  policyIntervalS: number
  /** SupernodePolicy minUptimeMs, in s. Default 1800. */
  minUptimeS: number
  /** SupernodePolicy targetLeavesPerSupernode. Default 50. */
  targetLeavesPerSupernode: number
  /** SupernodePolicy minSupernodesPerRegion. Default 3. */
  minSupernodesPerRegion: number
  /** SupernodePolicy minSpareUploadBytesPerSec. Default 524288. */
  minSpareUploadBytesPerSec: number
  /** Re-join / rediscovery interval while short of contacts or attachments, s. Default 600. */
  refreshIntervalS: number
  /**
   * The bootstrap list every peer ships with, from which a leaf draws the servers it asks for supernodes (the peer's discovery
   * rule: its first supernode, then `discoveryServers` entries drawn uniformly, early re-discovery when a server names few) and
   * a member draws its bootstrap contacts. 'seeders' (default): the seeders, as a peer shipping only its publisher's seeders
   * would. 'shipped-list': the seeders and the static supernodes. A server answers a random id from its far buckets, the same
   * 20 contacts for half of all askers, so 'seeders' funnels joining leaves onto a few supernodes (see sim/README, "Leaf discovery").
   */
  leafDiscovery: string
  /** DHT servers each peer remembers beyond its machines' own lists (OverlayPeer maxKnownServers; 256 in the real peer). Default 0: memory at 10^6 peers, and the simulator's policy inputs come from the model. */
  maxKnownServers: number
  /** Nodes online at t = 0 start joining at a uniform time in [0, joinSpreadS): the warm-up window, so the start-up burst is not every online node joining at once. Default 600. */
  joinSpreadS: number
  /** Pieces per item (coarse: the piece size is ceil(size / piecesPerItem)). Default 8. */
  piecesPerItem: number
  /** Peer sources a download uses at most (SourceChooser maxPeers; origins come on top), as `swarmcdn get`. Default DEFAULT_MAX_PEERS (8). */
  maxSourcesPerDownload: number
  /** Far peer sources at most when the downloader's AS is known (SourceChooser maxFarPeers), as `swarmcdn get`. Default DEFAULT_MAX_FAR_PEERS (4). */
  maxFarPeers: number
  /** Time between two finds of one download for more sources, s (as `swarmcdn get`'s refind). Default DEFAULT_REFIND_INTERVAL_MS / 1000 (5). */
  refindIntervalS: number
  /** Outstanding piece requests per source. Default 2. */
  maxRequestsPerSource: number
  /** Sources one piece may be requested from at once in endgame (DownloadSession maxRequestsPerPiece). Default 1: the model has no mid-transfer cancel, so with coarse pieces a duplicate would cost a whole piece. */
  maxRequestsPerPiece: number
  /** A piece request unanswered this long goes elsewhere, s. Default 600. */
  pieceTimeoutS: number
  /** Access classes that cannot be dialled from outside (never promoted). Default ['mobile']. */
  unreachableClasses: string[]
}

const DEFAULTS: SwarmcdnParams = {
  proximity: true,
  supernodes: true,
  k: 20,
  alpha: 3,
  providerLookupResiliency: 3,
  requestTimeoutMs: 5000,
  keepAliveIntervalS: 1800,
  disconnectDetectS: 30,
  targetAttachments: 3,
  maxCandidates: 16,
  maxLeaves: 200,
  policyIntervalS: 600,
  minUptimeS: 1800,
  targetLeavesPerSupernode: 50,
  minSupernodesPerRegion: 3,
  minSpareUploadBytesPerSec: 512 * 1024,
  refreshIntervalS: 600,
  leafDiscovery: 'seeders',
  maxKnownServers: 0,
  joinSpreadS: 600,
  piecesPerItem: 8,
  maxSourcesPerDownload: DEFAULT_MAX_PEERS,
  maxFarPeers: DEFAULT_MAX_FAR_PEERS,
  refindIntervalS: DEFAULT_REFIND_INTERVAL_MS / 1000,
  maxRequestsPerSource: 2,
  maxRequestsPerPiece: 1,
  pieceTimeoutS: 600,
  unreachableClasses: ['mobile']
}

/** Resolves swarmcdn params over the defaults; unknown names are errors. */
export function swarmcdnParams (p: Record<string, unknown>): SwarmcdnParams {
  const out: Record<string, unknown> = { ...DEFAULTS }
  for (const [k, v] of Object.entries(p)) {
    if (!(k in DEFAULTS)) throw new RangeError(`protocol.params.${k}: unknown swarmcdn parameter`)
    if (typeof v !== typeof (DEFAULTS as unknown as Record<string, unknown>)[k] && !Array.isArray(v)) throw new RangeError(`protocol.params.${k}: must be a ${typeof (DEFAULTS as unknown as Record<string, unknown>)[k]}`)
    out[k] = v
  }
  if (!LEAF_DISCOVERY.includes(out.leafDiscovery as string)) throw new RangeError(`protocol.params.leafDiscovery: must be one of ${LEAF_DISCOVERY.join(', ')}`)
  return out as unknown as SwarmcdnParams
}
