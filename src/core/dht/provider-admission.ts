/**
 * Who may place provider records at this DHT member, and from which
 * network: the decision half of the provider-record quotas (ProviderStore
 * keeps the counts). The shell reports every authenticated connection as it
 * opens and closes, with the remote address it saw; this object decides.
 *
 * Rules:
 * - A record's source network is the remote address of its provider's
 *   oldest live connection, masked to an IPv4 /24 or an IPv6 /48: one host
 *   takes fresh peer ids for free, but not fresh /24s (as RequesterQuotas
 *   and BEP 40). Never the addresses the provider declares in its frame.
 * - Loopback, private, link-local and unspecified addresses have no
 *   network (exempt from per-network quotas, so a LAN or a one-machine
 *   demo is not one network) unless `exemptLocalNetworks` is false, which
 *   lets tests on 127.x.y.z addresses exercise the per-network defence.
 * - With `minConnectionAgeMs` > 0 an identity must hold a live connection
 *   before it may add records at all, and its records count (are served)
 *   only once that connection is `minConnectionAgeMs` old: a flood of
 *   fresh identities is stored at most until their connections close (the
 *   DhtNode then drops what never counted), and never answered to others.
 * - With `minConnectionAgeMs` 0 (a driver that reports no connections, such
 *   as the simulator) records count at once, and a peer with no reported
 *   connection is placed by its contact's first address.
 * - At most `maxTrackedPeers` peers and `MAX_CONNECTIONS_PER_PEER`
 *   connections each are tracked; past that the peer reported first is
 *   forgotten (its next add-provider needs a new connection report).
 */
import type { Contact } from './contact.js'
import { sourceNetworkOf } from '../proximity/source-network.js'

export { sourceNetworkOf }

/** Default age a provider's connection must reach before its records count: 10 s, in ms. */
export const DEFAULT_MIN_PROVIDER_CONNECTION_AGE_MS = 10_000
/** Default peers whose connections are tracked at once. */
export const DEFAULT_MAX_TRACKED_PEERS = 10_000
/** Connections tracked per peer (libp2p keeps one or two per peer; more add nothing). */
export const MAX_CONNECTIONS_PER_PEER = 8

/** Options of a ProviderAdmission; every field optional. */
export interface ProviderAdmissionInit {
  /** Age a provider's live connection must reach before its records count, ms; 0: no connection needed. Default 10 000. */
  minConnectionAgeMs?: number
  /** Local addresses (loopback, private, link-local) belong to no network and are exempt from per-network quotas. Default true. */
  exemptLocalNetworks?: boolean
  /** Peers whose connections are tracked at once. Default 10 000. */
  maxTrackedPeers?: number
}

/** Where a record comes from: its quota network (null: exempt) and when it starts to count. */
export interface ProviderSource {
  network: string | null
  countsFromMs: number
}

/** A bad ProviderAdmission option (our caller's mistake). */
export class ProviderAdmissionOptionError extends RangeError {
  override name = 'ProviderAdmissionOptionError'
  readonly code = 'ERR_PROVIDER_ADMISSION_OPTION'
}

interface LiveConnection { openedAtMs: number, network: string | null }


/** Live connections per peer and the admission of their provider records (see the file's rules). */
export class ProviderAdmission {
  readonly minConnectionAgeMs: number
  readonly exemptLocalNetworks: boolean
  private readonly maxTrackedPeers: number
  /** peer id -> connection id -> connection; Map order is report order (the eviction order). */
  private readonly peers = new Map<string, Map<string, LiveConnection>>()

  /** An admission with the given options; a bad value throws ProviderAdmissionOptionError. */
  constructor (init: ProviderAdmissionInit = {}) {
    this.minConnectionAgeMs = init.minConnectionAgeMs ?? DEFAULT_MIN_PROVIDER_CONNECTION_AGE_MS
    this.exemptLocalNetworks = init.exemptLocalNetworks ?? true
    this.maxTrackedPeers = init.maxTrackedPeers ?? DEFAULT_MAX_TRACKED_PEERS
    if (!(Number.isFinite(this.minConnectionAgeMs) && this.minConnectionAgeMs >= 0)) {
      throw new ProviderAdmissionOptionError(`minConnectionAgeMs must be a number >= 0, got ${this.minConnectionAgeMs}`)
    }
    if (!(Number.isSafeInteger(this.maxTrackedPeers) && this.maxTrackedPeers >= 1)) {
      throw new ProviderAdmissionOptionError(`maxTrackedPeers must be an integer >= 1, got ${this.maxTrackedPeers}`)
    }
  }

  /** Peers with a live connection tracked. */
  get trackedPeers (): number { return this.peers.size }

  /** An authenticated connection `connectionId` to `peerId` from `remoteAddr` opened at `openedAtMs` (default now). */
  connectionOpened (nowMs: number, peerId: string, connectionId: string, remoteAddr: string, openedAtMs = nowMs): void {
    let conns = this.peers.get(peerId)
    if (conns == null) {
      if (this.peers.size >= this.maxTrackedPeers) {
        const first = this.peers.keys().next().value as string
        this.peers.delete(first)
      }
      conns = new Map()
      this.peers.set(peerId, conns)
    }
    if (conns.size >= MAX_CONNECTIONS_PER_PEER) return
    conns.set(connectionId, { openedAtMs: Math.min(openedAtMs, nowMs), network: sourceNetworkOf(remoteAddr, this.exemptLocalNetworks) })
  }

  /** The connection closed; true when `peerId` has no live connection left. */
  connectionClosed (peerId: string, connectionId: string): boolean {
    const conns = this.peers.get(peerId)
    if (conns == null) return true
    conns.delete(connectionId)
    if (conns.size > 0) return false
    this.peers.delete(peerId)
    return true
  }

  /** Where an add-provider from `provider` comes from, or undefined when it must be refused (no live connection). */
  sourceOf (nowMs: number, provider: Contact): ProviderSource | undefined {
    const oldest = this.oldestConnection(provider.peerId)
    if (oldest == null) {
      if (this.minConnectionAgeMs > 0) return undefined
      const first = provider.addrs[0]
      return { network: first === undefined ? null : sourceNetworkOf(first, this.exemptLocalNetworks), countsFromMs: nowMs }
    }
    return { network: oldest.network, countsFromMs: oldest.openedAtMs + this.minConnectionAgeMs }
  }

  private oldestConnection (peerId: string): LiveConnection | undefined {
    const conns = this.peers.get(peerId)
    if (conns === undefined) return undefined
    let oldest: LiveConnection | undefined
    for (const c of conns.values()) if (oldest === undefined || c.openedAtMs < oldest.openedAtMs) oldest = c
    return oldest
  }
}
