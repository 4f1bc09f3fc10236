/**
 * Ed25519 signatures under the publisher's key, one domain-separation
 * context per kind of signed document (manifest, fleet record), so a
 * signature over one kind can never be replayed as another.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto'

/** The DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/** The raw 32-byte public key of an Ed25519 key (private or public). */
export function rawPublicKey (key: KeyObject): Uint8Array {
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' })
  if (spki.length !== ED25519_SPKI_PREFIX.length + 32 || !spki.subarray(0, ED25519_SPKI_PREFIX.length).equals(ED25519_SPKI_PREFIX)) {
    throw new TypeError('publisher key must be an Ed25519 key')
  }
  return new Uint8Array(spki.subarray(ED25519_SPKI_PREFIX.length))
}

function publicKeyFromRaw (raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
}

function signingMessage (context: Uint8Array, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(context.length + bytes.length)
  out.set(context)
  out.set(bytes, context.length)
  return out
}

/** The 64-byte signature of `context || bytes` under `privateKey`. */
export function signWithContext (context: Uint8Array, bytes: Uint8Array, privateKey: KeyObject): Uint8Array<ArrayBuffer> {
  return new Uint8Array(sign(null, signingMessage(context, bytes), privateKey))
}

/** True when `signature` is the raw key's signature of `context || bytes`; false for any bad input. */
export function verifyWithContext (context: Uint8Array, bytes: Uint8Array, rawKey: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(null, signingMessage(context, bytes), publicKeyFromRaw(rawKey), signature)
  } catch {
    return false
  }
}
