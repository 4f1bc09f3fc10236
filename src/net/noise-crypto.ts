/**
 * The Noise session cipher (ChaCha20-Poly1305) for `@chainsafe/libp2p-noise`,
 * with each session key turned into a node:crypto KeyObject once.
 *
 * Why: the library's node implementation passes the raw 32-byte key to
 * `createCipheriv` for every transport message (≤ 64 KiB), and Node then
 * validates and wraps that key each time. In a 1 -> 8 mesh on loopback
 * (bench/mesh.ts) that key preparation took about as long as a third of
 * the encryption itself in every process's profile; with a KeyObject made
 * once per key, 256 MiB encrypt in ~150 ms instead of ~170-240 ms of CPU
 * on this machine. Everything else (handshake, hashing, messages under
 * 1200 bytes, where the library's WebAssembly cipher is faster) is the
 * library's default.
 *
 * A key is looked up by its array (a Noise cipher state keeps one array
 * for its whole life) and its bytes are compared on every use, so a
 * reused array with new bytes gets a new KeyObject, never a stale one.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import { Uint8ArrayList } from 'uint8arraylist'

const CHACHA20_POLY1305 = 'chacha20-poly1305'
const TAG_BYTES = 16
/** Below this many bytes the library's default (WebAssembly) cipher is the faster one (its own threshold). */
export const SMALL_MESSAGE_BYTES = 1200

const keyObjects = new WeakMap<Uint8Array, { bytes: Buffer, key: KeyObject }>()

function keyObjectOf (k: Uint8Array): KeyObject {
  const cached = keyObjects.get(k)
  if (cached?.bytes.equals(k) === true) return cached.key
  const bytes = Buffer.from(k)
  const key = createSecretKey(bytes)
  keyObjects.set(k, { bytes, key })
  return key
}

/** `@chainsafe/libp2p-noise`'s default crypto with KeyObjects cached per session key (see the file's comment). */
export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt (plaintext, nonce, ad, k) {
    if (plaintext.byteLength < SMALL_MESSAGE_BYTES) return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
    const cipher = createCipheriv(CHACHA20_POLY1305, keyObjectOf(k), nonce, { authTagLength: TAG_BYTES })
    cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
    // A list's parts are joined into the one output buffer (the library's own list type is a different copy of uint8arraylist).
    const parts = plaintext instanceof Uint8Array ? [cipher.update(plaintext)] : [...plaintext].map(buf => cipher.update(buf))
    parts.push(cipher.final(), cipher.getAuthTag())
    return Buffer.concat(parts)
  },
  chaCha20Poly1305Decrypt (ciphertext, nonce, ad, k, dst) {
    if (ciphertext.byteLength < SMALL_MESSAGE_BYTES) return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst)
    const authTag = ciphertext.subarray(ciphertext.length - TAG_BYTES)
    const decipher = createDecipheriv(CHACHA20_POLY1305, keyObjectOf(k), nonce, { authTagLength: TAG_BYTES })
    const text = ciphertext instanceof Uint8Array ? ciphertext.subarray(0, ciphertext.length - TAG_BYTES) : ciphertext.sublist(0, ciphertext.length - TAG_BYTES)
    decipher.setAAD(ad, { plaintextLength: text.byteLength })
    decipher.setAuthTag(authTag)
    if (text instanceof Uint8Array) {
      const output = decipher.update(text)
      const final = decipher.final()
      return final.byteLength > 0 ? Buffer.concat([output, final]) : output
    }
    // A frame that spanned TCP reads arrives as a list: its decrypted parts are
    // returned as a list too (the library appends them to its output list),
    // not joined into one more 64 KiB buffer. Every received byte was in ~4
    // buffers that live until a GC; this is one of them (peak RSS:
    // docs/BENCHMARKS.md "Client peak RSS").
    const output = new Uint8ArrayList()
    for (const buf of text) output.append(decipher.update(buf))
    const final = decipher.final()
    if (final.byteLength > 0) output.append(final)
    // The library's list is another copy of uint8arraylist; lists know each other by a registered symbol, not by class.
    return output as unknown as ReturnType<ICryptoInterface['chaCha20Poly1305Decrypt']>
  }
}
