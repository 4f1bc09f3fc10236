import { expect } from 'chai'
import { generateKeyPairSync } from 'node:crypto'
import { buildSignedManifest, openSignedManifest } from '../../../src/core/content/manifest.js'
import { hashPiece, pieceCount, pieceLengthAt, verifyPiece, PIECE_HASH_BYTES } from '../../../src/core/content/pieces.js'
import { parseContentId } from '../../../src/core/content/content-id.js'
import { ContentIdMismatchError, InvalidContentIdError, MalformedManifestError, ManifestSignatureError, PieceHashMismatchError } from '../../../src/core/content/content-errors.js'

const PIECE = 16 * 1024
function item (length: number): { data: Uint8Array, hashes: Uint8Array } {
  const data = new Uint8Array(length).map((_, i) => (i * 31) & 0xff)
  const n = pieceCount(length, PIECE)
  const hashes = new Uint8Array(n * PIECE_HASH_BYTES)
  for (let i = 0; i < n; i++) hashes.set(hashPiece(data.subarray(i * PIECE, i * PIECE + pieceLengthAt(i, length, PIECE))), i * PIECE_HASH_BYTES)
  return { data, hashes }
}

describe('core/content', () => {
  const { privateKey } = generateKeyPairSync('ed25519')
  const { data, hashes } = item(40_000)
  const m = buildSignedManifest({ name: 'a.bin', mediaType: 'application/octet-stream', lengthBytes: data.length, pieceSizeBytes: PIECE, pieceHashes: hashes }, privateKey)

  it('cuts an item into pieces with a shorter last piece', () => {
    expect(m.pieceCount).to.equal(3)
    expect(pieceLengthAt(2, 40_000, PIECE)).to.equal(40_000 - 2 * PIECE)
  })

  it('opens its own signed manifest under its content id', () => {
    const again = openSignedManifest(m.signedBytes, m.contentId)
    expect(again.name).to.equal('a.bin')
    expect(parseContentId(m.contentId)).to.equal(m.contentId)
  })

  it('rejects a manifest fetched for another id with ContentIdMismatchError', () => {
    const other = buildSignedManifest({ name: 'b.bin', mediaType: 'application/octet-stream', lengthBytes: data.length, pieceSizeBytes: PIECE, pieceHashes: hashes }, privateKey)
    expect(() => openSignedManifest(other.signedBytes, m.contentId)).to.throw(ContentIdMismatchError)
  })

  it('rejects a tampered signature with ManifestSignatureError', () => {
    const bad = new Uint8Array(m.signedBytes)
    bad[bad.length - 1] ^= 1 // the signature is the last field
    expect(() => openSignedManifest(bad)).to.throw(ManifestSignatureError)
  })

  it('rejects malformed bytes with MalformedManifestError', () => {
    expect(() => openSignedManifest(new Uint8Array([0xff, 0xff, 0xff]))).to.throw(MalformedManifestError)
  })

  it('verifies good pieces and rejects a flipped byte or wrong length with PieceHashMismatchError', () => {
    verifyPiece(m, 1, data.subarray(PIECE, 2 * PIECE))
    const bad = new Uint8Array(data.subarray(0, PIECE)); bad[5] ^= 1
    expect(() => verifyPiece(m, 0, bad)).to.throw(PieceHashMismatchError)
    expect(() => verifyPiece(m, 2, data.subarray(0, PIECE))).to.throw(PieceHashMismatchError)
    expect(() => verifyPiece(m, 3, data.subarray(0, 1))).to.throw(PieceHashMismatchError)
  })

  it('rejects strings that are not content ids', () => {
    expect(() => parseContentId('hello')).to.throw(InvalidContentIdError)
  })
})
