/**
 * Errors for content that fails verification. Each names one fault so a
 * caller can tell a lying peer (ban it) from a bad argument (report it).
 */

/** Manifest bytes that do not decode, or decode to impossible values. */
export class MalformedManifestError extends Error {
  override name = 'MalformedManifestError'
  readonly code = 'ERR_MALFORMED_MANIFEST'
}

/** A manifest whose Ed25519 signature does not verify under its publisher key. */
export class ManifestSignatureError extends Error {
  override name = 'ManifestSignatureError'
  readonly code = 'ERR_MANIFEST_SIGNATURE'
}

/** Signed manifest bytes whose hash is not the content id they were fetched for. */
export class ContentIdMismatchError extends Error {
  override name = 'ContentIdMismatchError'
  readonly code = 'ERR_CONTENT_ID_MISMATCH'
}

/** A string that is not a swarmcdn content id (a CIDv1, raw codec, sha2-256). */
export class InvalidContentIdError extends Error {
  override name = 'InvalidContentIdError'
  readonly code = 'ERR_INVALID_CONTENT_ID'
}

/** A piece whose SHA-256 is not the one the manifest lists, or of the wrong length. */
export class PieceHashMismatchError extends Error {
  override name = 'PieceHashMismatchError'
  readonly code = 'ERR_PIECE_HASH_MISMATCH'
  constructor (readonly pieceIndex: number, message: string) {
    super(message)
  }
}

/** A piece size outside the allowed range or not a power of two. */
export class InvalidPieceSizeError extends Error {
  override name = 'InvalidPieceSizeError'
  readonly code = 'ERR_INVALID_PIECE_SIZE'
}
