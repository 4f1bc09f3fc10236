/**
 * Content ids: a CIDv1 (raw codec, sha2-256) of the signed manifest's bytes,
 * written in base32 (`bafkrei...`). One id names exactly one verifiable item.
 */
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { sha256 as sha256Code } from 'multiformats/hashes/sha2'
import { createHash } from 'node:crypto'
import { InvalidContentIdError } from './content-errors.js'
import { keyFromBytes, type Key } from '../ids.js'

/** A content id in its canonical base32 string form. */
export type ContentId = string

/** The content id of signed manifest bytes. */
export function contentIdOf (signedManifestBytes: Uint8Array): ContentId {
  const hash = new Uint8Array(createHash('sha256').update(signedManifestBytes).digest())
  return CID.createV1(raw.code, createDigest(sha256Code.code, hash)).toString()
}

/**
 * Parses and canonicalises a content id given by a user or a peer; throws
 * InvalidContentIdError for anything but a CIDv1 with raw codec and sha2-256.
 */
export function parseContentId (text: string): ContentId {
  let cid: CID
  try {
    cid = CID.parse(text.trim())
  } catch {
    throw new InvalidContentIdError(`not a content id: ${JSON.stringify(text.slice(0, 80))}`)
  }
  if (cid.version !== 1 || cid.code !== raw.code || cid.multihash.code !== sha256Code.code || cid.multihash.digest.length !== 32) {
    throw new InvalidContentIdError(`not a swarmcdn content id (want CIDv1, raw, sha2-256): ${text}`)
  }
  return cid.toString()
}

/** The content id's position in the DHT key space. */
export function contentKey (contentId: ContentId): Key {
  return keyFromBytes(CID.parse(contentId).bytes)
}
