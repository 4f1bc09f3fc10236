/**
 * Node ids and content keys in one 256-bit Kademlia key space.
 *
 * Rules: a key is 32 bytes; a node's key is SHA-256 of its libp2p peer id
 * bytes and a content key is SHA-256 of the content id's CID bytes (as in
 * libp2p kad-dht), so both are uniformly spread. Distances are compared
 * byte by byte: folding a 256-bit XOR into a JS number loses precision.
 */
import { createHash } from 'node:crypto'

/** Length of every key in the DHT key space, in bytes. */
export const KEY_LENGTH_BYTES = 32

/** A 32-byte key in the DHT key space (node id or content key). */
export type Key = Uint8Array

/** Thrown when a byte string is not a valid 32-byte key. */
export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError'
  readonly code = 'ERR_INVALID_KEY'
}

/** Hashes arbitrary bytes (peer id bytes, CID bytes) into the key space. */
export function keyFromBytes (bytes: Uint8Array): Key {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/** Throws InvalidKeyError unless `key` is exactly 32 bytes. */
export function assertKey (key: Uint8Array): asserts key is Key {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH_BYTES) {
    throw new InvalidKeyError(`a key must be ${KEY_LENGTH_BYTES} bytes, got ${key?.length ?? typeof key}`)
  }
}

/** XOR distance between two keys, as 32 bytes (big-endian). */
export function xorDistance (a: Key, b: Key): Uint8Array {
  const out = new Uint8Array(KEY_LENGTH_BYTES)
  for (let i = 0; i < KEY_LENGTH_BYTES; i++) out[i] = a[i] ^ b[i]
  return out
}

/**
 * Compares the distances of `a` and `b` to `target` exactly, without
 * materialising them: negative if `a` is closer, positive if `b` is, 0 if equal.
 */
export function compareDistance (target: Key, a: Key, b: Key): number {
  for (let i = 0; i < KEY_LENGTH_BYTES; i++) {
    const da = a[i] ^ target[i]
    const db = b[i] ^ target[i]
    if (da !== db) return da - db
  }
  return 0
}

/**
 * The first 48 bits of `target XOR id` as a number: orders ids by distance
 * to `target` exactly as compareDistance does, except that ids equal in
 * those bits need compareDistance to break the tie. Computed once per
 * candidate, it makes sorting by distance a number comparison.
 */
export function distancePrefix (target: Key, id: Key): number {
  return ((id[0] ^ target[0]) * 2 ** 40) + ((id[1] ^ target[1]) * 2 ** 32) +
    (((id[2] ^ target[2]) << 24 | (id[3] ^ target[3]) << 16 | (id[4] ^ target[4]) << 8 | (id[5] ^ target[5])) >>> 0)
}

/** Number of leading bits `a` and `b` share (256 when equal); the bucket index in Kademlia. */
export function commonPrefixBits (a: Key, b: Key): number {
  for (let i = 0; i < KEY_LENGTH_BYTES; i++) {
    const x = a[i] ^ b[i]
    if (x !== 0) return i * 8 + Math.clz32(x) - 24
  }
  return KEY_LENGTH_BYTES * 8
}

/** True when two keys are byte-equal. */
export function keysEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Lower-case hex of a key, for logs and maps. */
export function keyToHex (key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex')
}
