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
 * - Expired records are never returned and are pruned lazily and by `prune`.
 */
import { keyToHex, type Key } from '../ids.js'
import type { Contact } from './contact.js'

/** Default provider record lifetime: 24 h, in ms. */
export const DEFAULT_RECORD_TTL_MS = 24 * 60 * 60 * 1000
/** Default republish interval: 12 h, in ms. */
export const DEFAULT_REPUBLISH_INTERVAL_MS = 12 * 60 * 60 * 1000

/** Options of a ProviderStore. */
export interface ProviderStoreInit {
  /** Record lifetime in ms. Default 24 h. */
  recordTtlMs?: number
  /** Most distinct keys stored. Default 100 000. */
  maxKeys?: number
  /** Most providers stored per key. Default 20. */
  maxProvidersPerKey?: number
}

interface ProviderRecord { provider: Contact, expiresAtMs: number }

/** Outcome of `add`. */
export type AddProviderResult = 'stored' | 'refreshed' | 'refused-full'

/** Bounded, expiring store of provider records. */
export class ProviderStore {
  readonly recordTtlMs: number
  private readonly maxKeys: number
  private readonly maxProvidersPerKey: number
  private readonly records = new Map<string, Map<string, ProviderRecord>>()
  private total = 0

  constructor (init: ProviderStoreInit = {}) {
    this.recordTtlMs = init.recordTtlMs ?? DEFAULT_RECORD_TTL_MS
    this.maxKeys = init.maxKeys ?? 100_000
    this.maxProvidersPerKey = init.maxProvidersPerKey ?? 20
  }

  /** Total records held (including not yet pruned expired ones). */
  get size (): number { return this.total }

  /** Number of keys held. */
  get keyCount (): number { return this.records.size }

  /** Stores or refreshes the record "`provider` provides `key`" at `nowMs`. */
  add (nowMs: number, key: Key, provider: Contact): AddProviderResult {
    const hex = keyToHex(key)
    let byPeer = this.records.get(hex)
    const expiresAtMs = nowMs + this.recordTtlMs
    const existing = byPeer?.get(provider.peerId)
    if (existing != null) {
      existing.expiresAtMs = expiresAtMs
      existing.provider = provider
      return 'refreshed'
    }
    if (byPeer == null) {
      if (this.records.size >= this.maxKeys) return 'refused-full'
      byPeer = new Map()
      this.records.set(hex, byPeer)
    } else if (byPeer.size >= this.maxProvidersPerKey) {
      this.pruneKey(nowMs, hex, byPeer)
      if (byPeer.size >= this.maxProvidersPerKey) return 'refused-full'
    }
    byPeer.set(provider.peerId, { provider, expiresAtMs })
    this.total++
    return 'stored'
  }

  /** Live providers of `key` at `nowMs`, most recently refreshed first, at most `limit`. */
  get (nowMs: number, key: Key, limit = this.maxProvidersPerKey): Contact[] {
    const hex = keyToHex(key)
    const byPeer = this.records.get(hex)
    if (byPeer == null) return []
    this.pruneKey(nowMs, hex, byPeer)
    return [...byPeer.values()].sort((a, b) => b.expiresAtMs - a.expiresAtMs).slice(0, limit).map(r => r.provider)
  }

  /** Removes the record of `peerId` for `key` (or for every key when `key` is omitted). */
  remove (peerId: string, key?: Key): void {
    const keys = key == null ? [...this.records.keys()] : [keyToHex(key)]
    for (const hex of keys) {
      const byPeer = this.records.get(hex)
      if (byPeer?.delete(peerId) === true) {
        this.total--
        if (byPeer.size === 0) this.records.delete(hex)
      }
    }
  }

  /** Drops every expired record; returns how many were dropped. */
  prune (nowMs: number): number {
    const before = this.total
    for (const [hex, byPeer] of this.records) this.pruneKey(nowMs, hex, byPeer)
    return before - this.total
  }

  private pruneKey (nowMs: number, hex: string, byPeer: Map<string, ProviderRecord>): void {
    for (const [peer, r] of byPeer) {
      if (r.expiresAtMs <= nowMs) { byPeer.delete(peer); this.total-- }
    }
    if (byPeer.size === 0) this.records.delete(hex)
  }
}
