/**
 * Contacts and a seeded random stream for core unit tests (no network: a
 * test feeds one machine its inputs by hand). Overlay behaviour across
 * many nodes runs through the simulator shell instead
 * (test/sim/overlay-behaviour.test.ts).
 */
import type { Contact } from '../../src/core/dht/contact.js'
import { keyFromBytes } from '../../src/core/ids.js'

/** Deterministic PRNG in [0, 1) for tests (mulberry32). */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A contact with a private (region-exempt) address unless `ip` is given; its key is the hash of `name`. */
export function makeContact (name: string, ip = '10.0.0.1'): Contact {
  return { id: keyFromBytes(new TextEncoder().encode(name)), peerId: name, addrs: [`/ip4/${ip}/tcp/4001`] }
}
