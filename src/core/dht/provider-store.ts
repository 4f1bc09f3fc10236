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
import { CompactMultimap } from './compact-multimap.js'
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

/** One record. It names its key so that removing it by provider touches only that provider's records. */
interface ProviderRecord {
  provider: Contact
  expiresAtMs: number
  /** 0 when the record counted when stored: a small integer is kept unboxed, a time is not (16 bytes per record). */
  countsFromMs: number
  /** The source network; the same string as the provider's other records' (one copy per provider, not per record). */
  network: string | null
  /** The key's hex, the same string the store's key map holds. */
  key: string
}

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
  /**
   * key hex -> its records, in the order they were first stored (`get`
   * breaks ties by it). Memory: a simulated day holds millions of records,
   * most keys with one to three providers, so a key keeps its records
   * (scanned by peer id, at most maxProvidersPerKey) in a CompactMultimap
   * rather than a Map of its own per key.
   */
  private readonly records = new CompactMultimap<ProviderRecord>()
  /**
   * provider peer id -> its records (quota counts, and O(own records)
   * removal). The records themselves, one without an array: a Set of key
   * strings per provider was the largest item of the one-peer simulator's
   * memory (most providers hold one record at a member).
   */
  private readonly byProvider = new CompactMultimap<ProviderRecord>()
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
  recordsOf (peerId: string): number { return this.byProvider.count(peerId) }

  /** Records held from source network `network` (as ProviderAdmission names it). */
  recordsFromNetwork (network: string): number { return this.byNetwork.get(network) ?? 0 }

  /**
   * Stores or refreshes the record "`provider` provides `key`" at `nowMs`.
   * `source` (from ProviderAdmission) puts it under the quotas; without
   * one (this node's own record) it counts at once and under none.
   */
  add (nowMs: number, key: Key, provider: Contact, source?: ProviderSource): AddProviderResult {
    const hex = keyToHex(key)
    const expiresAtMs = nowMs + this.recordTtlMs
    const existing = this.recordOf(hex, provider.peerId)
    if (existing !== undefined) {
      existing.expiresAtMs = expiresAtMs
      existing.provider = provider
      if (source !== undefined) existing.countsFromMs = Math.min(existing.countsFromMs, source.countsFromMs)
      return 'refreshed'
    }
    const network = this.sharedNetwork(provider.peerId, source?.network ?? null)
    if (source !== undefined) {
      if (this.recordsOf(provider.peerId) >= this.maxRecordsPerProvider) return 'refused-provider-quota'
      if (network !== null && this.recordsFromNetwork(network) >= this.maxRecordsPerNetwork) return 'refused-network-quota'
    }
    if (this.records.count(hex) === 0) {
      if (this.records.size >= this.maxKeys) return 'refused-full'
    } else {
      if (this.records.count(hex) >= this.maxProvidersPerKey) this.pruneKey(nowMs, hex)
      if (this.records.count(hex) >= this.maxProvidersPerKey) return 'refused-full'
      if (network !== null && this.fromNetwork(hex, network) >= this.maxProvidersPerNetworkPerKey) return 'refused-network-quota'
    }
    if (network !== null) this.byNetwork.set(network, this.recordsFromNetwork(network) + 1)
    const countsFromMs = source === undefined || source.countsFromMs <= nowMs ? 0 : source.countsFromMs
    // The key's string as its other records hold it: keyToHex makes a new one per call (80 bytes).
    const r: ProviderRecord = { provider, expiresAtMs, countsFromMs, network, key: this.records.first(hex)?.key ?? hex }
    this.records.add(hex, r)
    this.byProvider.add(provider.peerId, r)
    this.total++
    return 'stored'
  }

  /** Live providers of `key` at `nowMs` whose records count, most recently refreshed first, at most `limit`. */
  get (nowMs: number, key: Key, limit = this.maxProvidersPerKey): Contact[] {
    const hex = keyToHex(key)
    this.pruneKey(nowMs, hex)
    // One record (most keys at a member): no copies to filter, sort and slice.
    const one = this.records.one(hex)
    if (one !== undefined) return one.countsFromMs <= nowMs && limit >= 1 ? [one.provider] : []
    const counted = this.records.values(hex).filter(r => r.countsFromMs <= nowMs)
    return counted.sort((a, b) => b.expiresAtMs - a.expiresAtMs).slice(0, limit).map(r => r.provider)
  }

  /** Removes the record of `peerId` for `key` (or for every key when `key` is omitted). */
  remove (peerId: string, key?: Key): void {
    if (key === undefined) {
      for (const r of this.byProvider.values(peerId)) this.delete(r)
      return
    }
    const r = this.recordOf(keyToHex(key), peerId)
    if (r !== undefined) this.delete(r)
  }

  /** Removes the records of `peerId` that do not count yet at `nowMs`; returns how many. */
  removeUncounted (nowMs: number, peerId: string): number {
    let removed = 0
    for (const r of this.byProvider.values(peerId)) {
      if (r.countsFromMs > nowMs) { this.delete(r); removed++ }
    }
    return removed
  }

  /** Drops every expired record; returns how many were dropped. */
  prune (nowMs: number): number {
    const before = this.total
    for (const hex of this.records.keys()) this.pruneKey(nowMs, hex)
    return before - this.total
  }

  // `prune` runs this on every key: a key with one record allocates nothing.
  private pruneKey (nowMs: number, hex: string): void {
    const one = this.records.one(hex)
    if (one !== undefined) {
      if (one.expiresAtMs <= nowMs) this.delete(one)
      return
    }
    for (const r of this.records.values(hex)) if (r.expiresAtMs <= nowMs) this.delete(r)
  }

  private recordOf (hex: string, peerId: string): ProviderRecord | undefined {
    const one = this.records.one(hex)
    if (one !== undefined) return one.provider.peerId === peerId ? one : undefined
    return this.records.values(hex).find(r => r.provider.peerId === peerId)
  }

  private fromNetwork (hex: string, network: string): number {
    const one = this.records.one(hex)
    if (one !== undefined) return one.network === network ? 1 : 0
    let n = 0
    for (const r of this.records.values(hex)) if (r.network === network) n++
    return n
  }

  /**
   * `network`, as the same string the provider's records already hold when
   * it is theirs: the source-network memo (one per process, bounded) hands
   * out fresh copies once it starts over, and a record would otherwise hold
   * one of its own.
   */
  private sharedNetwork (peerId: string, network: string | null): string | null {
    const first = this.byProvider.first(peerId)
    return first !== undefined && first.network === network ? first.network : network
  }

  /** The one place a record leaves: keeps the key's list, the provider's, the quota counts and the total in step. */
  private delete (r: ProviderRecord): void {
    this.records.remove(r.key, r)
    this.byProvider.remove(r.provider.peerId, r)
    if (r.network !== null) {
      const n = this.recordsFromNetwork(r.network) - 1
      if (n > 0) this.byNetwork.set(r.network, n)
      else this.byNetwork.delete(r.network)
    }
    this.total--
  }
}
