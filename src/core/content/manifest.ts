/**
 * Build, sign, decode and verify manifests.
 *
 * Rules: the content id is the hash of the signed manifest's exact bytes, so
 * verification checks the id first (cheap, and it pins the bytes), then
 * decodes within fixed limits, then checks the publisher's Ed25519
 * signature over a domain-separated message. Nothing is re-encoded.
 */
import type { KeyObject } from 'node:crypto'
import { Manifest as ManifestPb, SignedManifest as SignedManifestPb } from './manifest-pb.js'
import { ContentIdMismatchError, MalformedManifestError, ManifestSignatureError } from './content-errors.js'
import { assertPieceSize, pieceCount, PIECE_HASH_BYTES, type PieceLayout } from './pieces.js'
import { contentIdOf, type ContentId } from './content-id.js'
import { rawPublicKey, signWithContext, verifyWithContext } from './publisher-signature.js'

export { rawPublicKey }

/** Manifest format version written by this code. */
export const MANIFEST_VERSION = 1
/** Upper bound on signed manifest bytes: 8 MiB (256 Ki pieces, e.g. 256 GiB at 1 MiB). */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024
/** Upper bound on an item's name and media type, in bytes. */
export const MAX_NAME_BYTES = 1024
/** Domain separation so a manifest signature can never be replayed as another message. */
const SIGNING_CONTEXT = new TextEncoder().encode('swarmcdn-manifest-v1\0')

/** What a publisher states about an item. */
export interface ManifestFields {
  name: string
  mediaType: string
  lengthBytes: number
  pieceSizeBytes: number
  /** 32-byte SHA-256 of each piece, concatenated in order. */
  pieceHashes: Uint8Array
}

/** A manifest that has passed every check. */
export interface VerifiedManifest extends PieceLayout {
  contentId: ContentId
  name: string
  mediaType: string
  pieceCount: number
  /** Raw 32-byte Ed25519 public key of the publisher. */
  publisherKey: Uint8Array
  /** The exact signed bytes, to store and to serve to others. */
  signedBytes: Uint8Array
}

function checkFields (f: ManifestFields): void {
  const enc = new TextEncoder()
  if (f.name.length === 0 || enc.encode(f.name).length > MAX_NAME_BYTES || /[/\\\0]/.test(f.name)) {
    throw new MalformedManifestError(`manifest name must be 1-${MAX_NAME_BYTES} bytes with no path separators, got ${JSON.stringify(f.name.slice(0, 80))}`)
  }
  if (enc.encode(f.mediaType).length > MAX_NAME_BYTES || !/^[\w.+-]+\/[\w.+-]+$/.test(f.mediaType)) {
    throw new MalformedManifestError(`manifest media type is not type/subtype: ${JSON.stringify(f.mediaType.slice(0, 80))}`)
  }
  if (!Number.isSafeInteger(f.lengthBytes) || f.lengthBytes < 0) {
    throw new MalformedManifestError(`manifest length must be a non-negative integer, got ${f.lengthBytes}`)
  }
  try {
    assertPieceSize(f.pieceSizeBytes)
  } catch (err) {
    throw new MalformedManifestError((err as Error).message)
  }
  const expected = pieceCount(f.lengthBytes, f.pieceSizeBytes) * PIECE_HASH_BYTES
  if (f.pieceHashes.length !== expected) {
    throw new MalformedManifestError(`manifest lists ${f.pieceHashes.length / PIECE_HASH_BYTES} piece hashes, expected ${expected / PIECE_HASH_BYTES}`)
  }
}

/** Signs a manifest with the publisher's Ed25519 private key and returns it verified, with its content id. */
export function buildSignedManifest (fields: ManifestFields, privateKey: KeyObject): VerifiedManifest {
  checkFields(fields)
  const publisherKey = rawPublicKey(privateKey)
  const manifestBytes = ManifestPb.encode({
    version: MANIFEST_VERSION,
    name: fields.name,
    mediaType: fields.mediaType,
    lengthBytes: BigInt(fields.lengthBytes),
    pieceSizeBytes: fields.pieceSizeBytes,
    pieceHashes: new Uint8Array(fields.pieceHashes),
    publisherKey: new Uint8Array(publisherKey)
  })
  const signature = signWithContext(SIGNING_CONTEXT, manifestBytes, privateKey)
  const signedBytes = SignedManifestPb.encode({ manifest: manifestBytes, signature })
  if (signedBytes.length > MAX_MANIFEST_BYTES) {
    throw new MalformedManifestError(`manifest is ${signedBytes.length} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit: use a larger piece size`)
  }
  return openSignedManifest(signedBytes)
}

/**
 * Decodes and verifies signed manifest bytes. With `expectedContentId`, the
 * bytes must hash to it (ContentIdMismatchError otherwise). Throws
 * MalformedManifestError or ManifestSignatureError for bad bytes.
 */
export function openSignedManifest (signedBytes: Uint8Array, expectedContentId?: ContentId): VerifiedManifest {
  if (signedBytes.length > MAX_MANIFEST_BYTES) {
    throw new MalformedManifestError(`manifest is ${signedBytes.length} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`)
  }
  const contentId = contentIdOf(signedBytes)
  if (expectedContentId != null && contentId !== expectedContentId) {
    throw new ContentIdMismatchError(`manifest bytes hash to ${contentId}, not the requested ${expectedContentId}`)
  }
  let outer: SignedManifestPb
  let inner: ManifestPb
  try {
    outer = SignedManifestPb.decode(signedBytes)
    inner = ManifestPb.decode(outer.manifest)
  } catch (err) {
    throw new MalformedManifestError(`manifest does not decode: ${(err as Error).message}`)
  }
  if (inner.version !== MANIFEST_VERSION) {
    throw new MalformedManifestError(`unsupported manifest version ${inner.version}`)
  }
  if (inner.publisherKey.length !== 32 || outer.signature.length !== 64) {
    throw new MalformedManifestError('manifest publisher key or signature has the wrong length')
  }
  if (inner.lengthBytes > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new MalformedManifestError('manifest length is too large')
  }
  const fields: ManifestFields = {
    name: inner.name,
    mediaType: inner.mediaType,
    lengthBytes: Number(inner.lengthBytes),
    pieceSizeBytes: inner.pieceSizeBytes,
    pieceHashes: inner.pieceHashes
  }
  checkFields(fields)
  const ok = verifyWithContext(SIGNING_CONTEXT, outer.manifest, inner.publisherKey, outer.signature)
  if (!ok) {
    throw new ManifestSignatureError(`manifest signature does not verify for publisher key ${Buffer.from(inner.publisherKey).toString('hex').slice(0, 16)}...`)
  }
  return {
    ...fields,
    contentId,
    pieceCount: pieceCount(fields.lengthBytes, fields.pieceSizeBytes),
    publisherKey: inner.publisherKey,
    signedBytes
  }
}
