/**
 * Seeded randomness for the simulator, on pure-rand's xoroshiro128+.
 *
 * Rules: nothing in sim/ calls Math.random. Each purpose (churn of peer 17,
 * workload arrivals, fault victims, latency jitter, ...) draws from its own
 * stream whose state is derived from (run seed, label) alone, so adding a
 * fault or a flash crowd never shifts the draws of another purpose.
 */
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus'
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator'

const SCALE_26 = 2 ** -26
const SCALE_53 = 2 ** -53

/** A seeded stream of uniform draws. */
export class Rng {
  constructor (private readonly gen: JumpableRandomGenerator) {}

  /** Uniform in [0, 1) with 53 random bits (same construction as pure-rand's uniformFloat64). */
  float (): number {
    const a = this.gen.next() & 0x3ffffff
    const b = this.gen.next() & 0x7ffffff
    return a * SCALE_26 + b * SCALE_53
  }

  /** Uniform in (0, 1]: safe inside log() for inverse-CDF sampling. */
  floatOpen (): number { return 1 - this.float() }

  /** Uniform integer in [0, n). */
  int (n: number): number { return Math.floor(this.float() * n) }
}

/** Mixes 32-bit words (murmur3 finalizer) so nearby labels give unrelated states. */
function mix32 (h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h | 0
}

/** FNV-1a over a label, as a 32-bit integer. */
function hashLabel (label: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h | 0
}

/** Derives one independent stream per (seed, label, index). */
export class RngStreams {
  constructor (readonly seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`)
    }
  }

  /** The stream for one purpose; `index` distinguishes e.g. one peer's churn from another's. */
  stream (label: string, index = 0): Rng {
    const l = hashLabel(label)
    const base = mix32(this.seed ^ mix32(l ^ mix32(index + 0x9e3779b9)))
    const state = [mix32(base + 1), mix32(base + 2 ^ l), mix32(base + 3 ^ index), mix32(base + 4 ^ this.seed)]
    if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1
    return new Rng(xoroshiro128plusFromState(state))
  }
}
