import { decodeMessage, encodeMessage, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Manifest {
  version: number
  name: string
  mediaType: string
  lengthBytes: bigint
  pieceSizeBytes: number
  pieceHashes: Uint8Array<ArrayBuffer>
  publisherKey: Uint8Array<ArrayBuffer>
}

export namespace Manifest {
  let _codec: Codec<Manifest>

  export const codec = (): Codec<Manifest> => {
    if (_codec == null) {
      _codec = message<Manifest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(18)
          w.string(obj.name)
        }

        if ((obj.mediaType != null && obj.mediaType !== '')) {
          w.uint32(26)
          w.string(obj.mediaType)
        }

        if ((obj.lengthBytes != null && obj.lengthBytes !== 0n)) {
          w.uint32(32)
          w.uint64(obj.lengthBytes)
        }

        if ((obj.pieceSizeBytes != null && obj.pieceSizeBytes !== 0)) {
          w.uint32(40)
          w.uint32(obj.pieceSizeBytes)
        }

        if ((obj.pieceHashes != null && obj.pieceHashes.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.pieceHashes)
        }

        if ((obj.publisherKey != null && obj.publisherKey.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.publisherKey)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          name: '',
          mediaType: '',
          lengthBytes: 0n,
          pieceSizeBytes: 0,
          pieceHashes: uint8ArrayAlloc(0),
          publisherKey: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.name = reader.string()
              break
            }
            case 3: {
              obj.mediaType = reader.string()
              break
            }
            case 4: {
              obj.lengthBytes = reader.uint64()
              break
            }
            case 5: {
              obj.pieceSizeBytes = reader.uint32()
              break
            }
            case 6: {
              obj.pieceHashes = reader.bytes()
              break
            }
            case 7: {
              obj.publisherKey = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.mediaType`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.lengthBytes`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.pieceSizeBytes`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.pieceHashes`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.publisherKey`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ManifestVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface ManifestNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface ManifestMediaTypeFieldEvent {
    field: '$.mediaType'
    value: string
  }

  export interface ManifestLengthBytesFieldEvent {
    field: '$.lengthBytes'
    value: bigint
  }

  export interface ManifestPieceSizeBytesFieldEvent {
    field: '$.pieceSizeBytes'
    value: number
  }

  export interface ManifestPieceHashesFieldEvent {
    field: '$.pieceHashes'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ManifestPublisherKeyFieldEvent {
    field: '$.publisherKey'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Manifest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Manifest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Manifest>): Manifest {
    return decodeMessage(buf, Manifest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Manifest>): Generator<ManifestVersionFieldEvent | ManifestNameFieldEvent | ManifestMediaTypeFieldEvent | ManifestLengthBytesFieldEvent | ManifestPieceSizeBytesFieldEvent | ManifestPieceHashesFieldEvent | ManifestPublisherKeyFieldEvent> {
    return streamMessage(buf, Manifest.codec(), opts)
  }
}

export interface SignedManifest {
  manifest: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedManifest {
  let _codec: Codec<SignedManifest>

  export const codec = (): Codec<SignedManifest> => {
    if (_codec == null) {
      _codec = message<SignedManifest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.manifest != null && obj.manifest.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.manifest)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          manifest: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.manifest = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.manifest`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SignedManifestManifestFieldEvent {
    field: '$.manifest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedManifestSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedManifest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedManifest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedManifest>): SignedManifest {
    return decodeMessage(buf, SignedManifest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedManifest>): Generator<SignedManifestManifestFieldEvent | SignedManifestSignatureFieldEvent> {
    return streamMessage(buf, SignedManifest.codec(), opts)
  }
}
