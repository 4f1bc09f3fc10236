/**
 * Provider records ("peer P provides key K") kept by the DHT nodes closest to K.
 *
 * Rules (libp2p kad-dht conventions):
 * - A record lives `recordTtlMs` (default 24 h) after it was last stored;
 *   a provider re-announces every `republishIntervalMs` (default 12 h, half
 *   the TTL, so one missed republish does not lose the record).
 * - At most `maxKeys` keys and `maxProvidersPerKey` providers per key are
 *   stored. When full, new keys and new providers are REFUSED rather than
 *   evicting existing ones, so a flood cannot push honest records out;
 *   a refresh of an existing record is always accepted.
 * - Quotas, so that cheap identities cannot fill the store either (one
 *   host mints peer ids for free, not networks): one provider identity
 *   holds at most `maxRecordsPerProvider` records, the providers of one
 *   source network (ProviderSource: an IPv4 /24 or IPv6 /48, from the
 *   connection, ProviderAdmission) at most `maxRecordsPerNetwork`, and at
 *   most `maxProvidersPerNetworkPerKey` providers of one key come from one
 *   network (so a few /24s cannot take all of one item's places). Filling
 *   `maxKeys` then takes maxKeys / maxRecordsPerNetwork networks. A
 *   record without a source (this node's own) is under no quota.
 * - A record is served only from its source's `countsFromMs` (a provider's
 *   connection must have aged, ProviderAdmission); `removeUncounted` drops
 *   a provider's records that never counted.
 * - Expired records are never returned and are pruned lazily and by `prune`.
 */
import { keyToHex, type Key } from '../ids.js'
import type { Contact } from './contact.js'
import type { ProviderSource } from './provider-admission.js'

/** Default provider record lifetime: 24 h, in ms. */
export const DEFAULT_RECORD_TTL_MS = 24 * 60 * 60 * 1000
/** Default republish interval: 12 h, in ms. */
export const DEFAULT_REPUBLISH_INTERVAL_MS = 12 * 60 * 60 * 1000
/** Default records one provider identity may hold at one node. */
export const DEFAULT_MAX_RECORDS_PER_PROVIDER = 5_000
/** Default records the providers of one network (/24, /48) may hold at one node together. */
export const DEFAULT_MAX_RECORDS_PER_NETWORK = 10_000
/** Default providers of one key from one network. */
export const DEFAULT_MAX_PROVIDERS_PER_NETWORK_PER_KEY = 4

/** Options of a ProviderStore. */
export interface ProviderStoreInit {
  /** Record lifetime in ms. Default 24 h. */
  recordTtlMs?: number
  /** Most distinct keys stored. Default 100 000. */
  maxKeys?: number
  /** Most providers stored per key. Default 20. */
  maxProvidersPerKey?: number
  /** Most records one provider identity holds. Default 5 000. */
  maxRecordsPerProvider?: number
  /** Most records the providers of one source network (IPv4 /24, IPv6 /48) hold together. Default 10 000. */
  maxRecordsPerNetwork?: number
  /** Most providers of one key from one source network. Default 4. */
  maxProvidersPerNetworkPerKey?: number
}

interface ProviderRecord { provider: Contact, expiresAtMs: number, countsFromMs: number, network: string | null }

/** Outcome of `add`. */
export type AddProviderResult = 'stored' | 'refreshed' | 'refused-full' | 'refused-provider-quota' | 'refused-network-quota'

/** Bounded, expiring store of provider records. */
export class ProviderStore {
  readonly recordTtlMs: number
  private readonly maxKeys: number
  private readonly maxProvidersPerKey: number
  private readonly maxRecordsPerProvider: number
  private readonly maxRecordsPerNetwork: number
  private readonly maxProvidersPerNetworkPerKey: number
  private readonly records = new Map<string, Map<string, ProviderRecord>>()
  /** provider peer id -> key hexes of its records (quota counts, and O(own records) removal). */
  private readonly byProvider = new Map<string, Set<string>>()
  /** source network -> records from it. */
  private readonly byNetwork = new Map<string, number>()
  private total = 0

  constructor (init: ProviderStoreInit = {}) {
    this.recordTtlMs = init.recordTtlMs ?? DEFAULT_RECORD_TTL_MS
    this.maxKeys = init.maxKeys ?? 100_000
    this.maxProvidersPerKey = init.maxProvidersPerKey ?? 20
    this.maxRecordsPerProvider = init.maxRecordsPerProvider ?? DEFAULT_MAX_RECORDS_PER_PROVIDER
    this.maxRecordsPerNetwork = init.maxRecordsPerNetwork ?? DEFAULT_MAX_RECORDS_PER_NETWORK
    this.maxProvidersPerNetworkPerKey = init.maxProvidersPerNetworkPerKey ?? DEFAULT_MAX_PROVIDERS_PER_NETWORK_PER_KEY
  }

  /** Total records held (including not yet pruned expired ones). */
  get size (): number { return this.total }

  /** Number of keys held. */
  get keyCount (): number { return this.records.size }

  /** Records `peerId` holds here (live or not yet pruned). */
  recordsOf (peerId: string): number { return this.byProvider.get(peerId)?.size ?? 0 }

  /** Records held from source network `network` (as ProviderAdmission names it). */
  recordsFromNetwork (network: string): number { return this.byNetwork.get(network) ?? 0 }

  /**
   * Stores or refreshes the record "`provider` provides `key`" at `nowMs`.
   * `source` (from ProviderAdmission) puts it under the quotas; without
   * one (this node's own record) it counts at once and under none.
   */
  add (nowMs: number, key: Key, provider: Contact, source?: ProviderSource): AddProviderResult {
    const hex = keyToHex(key)
    let byPeer = this.records.get(hex)
    const expiresAtMs = nowMs + this.recordTtlMs
    const existing = byPeer?.get(provider.peerId)
    if (existing != null) {
      existing.expiresAtMs = expiresAtMs
      existing.provider = provider
      if (source !== undefined) existing.countsFromMs = Math.min(existing.countsFromMs, source.countsFromMs)
      return 'refreshed'
    }
    const network = source?.network ?? null
    if (source !== undefined) {
      if (this.recordsOf(provider.peerId) >= this.maxRecordsPerProvider) return 'refused-provider-quota'
      if (network !== null && this.recordsFromNetwork(network) >= this.maxRecordsPerNetwork) return 'refused-network-quota'
    }
    if (byPeer == null) {
      if (this.records.size >= this.maxKeys) return 'refused-full'
      byPeer = new Map()
      this.records.set(hex, byPeer)
    } else {
      if (byPeer.size >= this.maxProvidersPerKey) this.pruneKey(nowMs, hex, byPeer)
      if (byPeer.size >= this.maxProvidersPerKey) return 'refused-full'
      if (network !== null && this.fromNetwork(byPeer, network) >= this.maxProvidersPerNetworkPerKey) return 'refused-network-quota'
    }
    byPeer.set(provider.peerId, { provider, expiresAtMs, countsFromMs: source?.countsFromMs ?? nowMs, network })
    let keys = this.byProvider.get(provider.peerId)
    if (keys == null) { keys = new Set(); this.byProvider.set(provider.peerId, keys) }
    keys.add(hex)
    if (network !== null) this.byNetwork.set(network, this.recordsFromNetwork(network) + 1)
    this.total++
    return 'stored'
  }

  /** Live providers of `key` at `nowMs` whose records count, most recently refreshed first, at most `limit`. */
  get (nowMs: number, key: Key, limit = this.maxProvidersPerKey): Contact[] {
    const hex = keyToHex(key)
    const byPeer = this.records.get(hex)
    if (byPeer == null) return []
    this.pruneKey(nowMs, hex, byPeer)
    const counted: ProviderRecord[] = []
    for (const r of byPeer.values()) if (r.countsFromMs <= nowMs) counted.push(r)
    return counted.sort((a, b) => b.expiresAtMs - a.expiresAtMs).slice(0, limit).map(r => r.provider)
  }

  /** Removes the record of `peerId` for `key` (or for every key when `key` is omitted). */
  remove (peerId: string, key?: Key): void {
    const hexes = key == null ? [...this.byProvider.get(peerId) ?? []] : [keyToHex(key)]
    for (const hex of hexes) {
      const byPeer = this.records.get(hex)
      const r = byPeer?.get(peerId)
      if (byPeer != null && r != null) this.delete(hex, byPeer, peerId, r)
    }
  }

  /** Removes the records of `peerId` that do not count yet at `nowMs`; returns how many. */
  removeUncounted (nowMs: number, peerId: string): number {
    let removed = 0
    for (const hex of [...this.byProvider.get(peerId) ?? []]) {
      const byPeer = this.records.get(hex)
      const r = byPeer?.get(peerId)
      if (byPeer != null && r != null && r.countsFromMs > nowMs) { this.delete(hex, byPeer, peerId, r); removed++ }
    }
    return removed
  }

  /** Drops every expired record; returns how many were dropped. */
  prune (nowMs: number): number {
    const before = this.total
    for (const [hex, byPeer] of this.records) this.pruneKey(nowMs, hex, byPeer)
    return before - this.total
  }

  private fromNetwork (byPeer: Map<string, ProviderRecord>, network: string): number {
    let n = 0
    for (const r of byPeer.values()) if (r.network === network) n++
    return n
  }

  private pruneKey (nowMs: number, hex: string, byPeer: Map<string, ProviderRecord>): void {
    for (const [peer, r] of byPeer) {
      if (r.expiresAtMs <= nowMs) this.delete(hex, byPeer, peer, r)
    }
  }

  /** The one place a record leaves: keeps the key map, the quota counts and the total in step. */
  private delete (hex: string, byPeer: Map<string, ProviderRecord>, peerId: string, r: ProviderRecord): void {
    byPeer.delete(peerId)
    if (byPeer.size === 0) this.records.delete(hex)
    const keys = this.byProvider.get(peerId)
    keys?.delete(hex)
    if (keys?.size === 0) this.byProvider.delete(peerId)
    if (r.network !== null) {
      const n = this.recordsFromNetwork(r.network) - 1
      if (n > 0) this.byNetwork.set(r.network, n)
      else this.byNetwork.delete(r.network)
    }
    this.total--
  }
}
