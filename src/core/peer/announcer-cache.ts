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
  /**
   * Made on the first set and let go when it empties: every peer has a
   * cache, but only supernodes and members look keys up (an empty Map is
   * ~180 bytes, per simulated node).
   */
  private entries: Map<string, Entry> | undefined

  constructor (private readonly init: AnnouncerCacheInit) {}

  /** The announcers last found for `key`, or undefined when none are fresh. */
  get (nowMs: number, key: Key): readonly Contact[] | undefined {
    if (this.entries === undefined) return undefined
    const hex = keyToHex(key)
    const e = this.entries.get(hex)
    if (e === undefined) return undefined
    if (e.expiresAtMs <= nowMs) { this.delete(hex); return undefined }
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
    const entries = this.entries ??= new Map()
    entries.delete(hex)
    entries.set(hex, { announcers, expiresAtMs: nowMs + this.init.ttlMs })
    if (entries.size > this.init.maxKeys) {
      const oldest = entries.keys().next().value
      if (oldest !== undefined) entries.delete(oldest)
    }
  }

  /** Forgets an announcer (it left or misbehaved): the next find of its keys looks again. */
  forget (peerId: string): void {
    for (const [hex, e] of this.entries ?? []) if (e.announcers.some(c => c.peerId === peerId)) this.delete(hex)
  }

  clear (): void { this.entries = undefined }

  /** Drops expired entries from the oldest on: every entry lives ttlMs from its last set, so Map order is expiry order. */
  private dropExpired (nowMs: number): void {
    for (const [hex, e] of this.entries ?? []) {
      if (e.expiresAtMs > nowMs) return
      this.delete(hex)
    }
  }

  private delete (hex: string): void {
    this.entries?.delete(hex)
    if (this.entries?.size === 0) this.entries = undefined
  }

  get size (): number { return this.entries?.size ?? 0 }
}
