/**
 * Cheap, well-mixed 32-bit hashing for tie-breaks and rendezvous choices
 * (not for security): murmur3's finalizer and word mixer.
 */

/** murmur3's 32-bit finalizer (fmix32): spreads every input bit over the output. */
export function fmix32 (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** murmur3's per-word mixing step: folds word `k` into running hash `h`. */
export function mixWord (h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, 0x1b873593)
  h ^= k
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}
