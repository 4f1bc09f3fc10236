/**
 * The announcers a DHT lookup named for a key, kept for a short time so
 * that the next finds of that key (a leaf's refinds, other leaves asking
 * for the same popular item) skip the lookup and go straight to asking
 * the announcers for their holders.
 *
 * Why this loses little: provider records are aggregated (one record per
 * supernode for all its leaves, one per seeder), so the set of announcers
 * of a key changes slowly, on the scale of record republishing, while the
 * holders behind them change fast. The forwards that follow still ask the
 * announcers afresh; only who to ask is remembered.
 */
import { keyToHex, type Key } from '../ids.js'
import type { Contact } from '../dht/contact.js'

/** Options of an AnnouncerCache. */
export interface AnnouncerCacheInit {
  /** How long a lookup's announcers are reused, ms. */
  ttlMs: number
  /** Keys remembered at most (the oldest entry goes first). */
  maxKeys: number
}

interface Entry { announcers: readonly Contact[], expiresAtMs: number }

/** A bounded, expiring map key -> announcers (best first). Pure: time comes in as nowMs. */
export class AnnouncerCache {
  private readonly entries = new Map<string, Entry>()

  constructor (private readonly init: AnnouncerCacheInit) {}

  /** The announcers last found for `key`, or undefined when none are fresh. */
  get (nowMs: number, key: Key): readonly Contact[] | undefined {
    const hex = keyToHex(key)
    const e = this.entries.get(hex)
    if (e === undefined) return undefined
    if (e.expiresAtMs <= nowMs) { this.entries.delete(hex); return undefined }
    return e.announcers
  }

  /**
   * Remembers a lookup's announcers; an empty answer is not kept (the next
   * find looks again). Entries that expired go first: `get` drops only the
   * key it is asked for, and a member of a simulated day otherwise kept up
   * to `maxKeys` dead entries for keys nobody asks it again.
   */
  set (nowMs: number, key: Key, announcers: readonly Contact[]): void {
    if (announcers.length === 0 || this.init.maxKeys === 0) return
    this.dropExpired(nowMs)
    const hex = keyToHex(key)
    this.entries.delete(hex)
    this.entries.set(hex, { announcers, expiresAtMs: nowMs + this.init.ttlMs })
    if (this.entries.size > this.init.maxKeys) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
  }

  /** Forgets an announcer (it left or misbehaved): the next find of its keys looks again. */
  forget (peerId: string): void {
    for (const [hex, e] of this.entries) if (e.announcers.some(c => c.peerId === peerId)) this.entries.delete(hex)
  }

  clear (): void { this.entries.clear() }

  /** Drops expired entries from the oldest on: every entry lives ttlMs from its last set, so Map order is expiry order. */
  private dropExpired (nowMs: number): void {
    for (const [hex, e] of this.entries) {
      if (e.expiresAtMs > nowMs) return
      this.entries.delete(hex)
    }
  }

  get size (): number { return this.entries.size }
}
