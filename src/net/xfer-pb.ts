import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface XferFrame {
  type: XferFrame.Type
  contentId: string
  bitfield: Uint8Array<ArrayBuffer>
  index: number
  data: Uint8Array<ArrayBuffer>
  reason: string
  alternatives: PeerAlternative[]
  origin: boolean
}

export namespace XferFrame {
  export enum Type {
    HANDSHAKE = 'HANDSHAKE',
    HAVE = 'HAVE',
    REQUEST = 'REQUEST',
    PIECE = 'PIECE',
    CANCEL = 'CANCEL',
    CHOKE = 'CHOKE',
    UNCHOKE = 'UNCHOKE',
    REJECT = 'REJECT',
    NOT_FOUND = 'NOT_FOUND'
  }

  enum __TypeValues {
    HANDSHAKE = 0,
    HAVE = 1,
    REQUEST = 2,
    PIECE = 3,
    CANCEL = 4,
    CHOKE = 5,
    UNCHOKE = 6,
    REJECT = 7,
    NOT_FOUND = 8
  }

  export namespace Type {
    export const codec = (): Codec<Type> => {
      return enumeration<Type>(__TypeValues)
    }
  }

  let _codec: Codec<XferFrame>

  export const codec = (): Codec<XferFrame> => {
    if (_codec == null) {
      _codec = message<XferFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.type != null && __TypeValues[obj.type] !== 0) {
          w.uint32(8)
          XferFrame.Type.codec().encode(obj.type, w)
        }

        if ((obj.contentId != null && obj.contentId !== '')) {
          w.uint32(18)
          w.string(obj.contentId)
        }

        if ((obj.bitfield != null && obj.bitfield.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.bitfield)
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(32)
          w.uint32(obj.index)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.data)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(50)
          w.string(obj.reason)
        }

        if (obj.alternatives != null && obj.alternatives.length > 0) {
          for (const value of obj.alternatives) {
            w.uint32(58)
            PeerAlternative.codec().encode(value, w)
          }
        }

        if ((obj.origin != null && obj.origin !== false)) {
          w.uint32(64)
          w.bool(obj.origin)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: Type.HANDSHAKE,
          contentId: '',
          bitfield: uint8ArrayAlloc(0),
          index: 0,
          data: uint8ArrayAlloc(0),
          reason: '',
          alternatives: [],
          origin: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.type = XferFrame.Type.codec().decode(reader)
              break
            }
            case 2: {
              obj.contentId = reader.string()
              break
            }
            case 3: {
              obj.bitfield = reader.bytes()
              break
            }
            case 4: {
              obj.index = reader.uint32()
              break
            }
            case 5: {
              obj.data = reader.bytes()
              break
            }
            case 6: {
              obj.reason = reader.string()
              break
            }
            case 7: {
              if (opts.limits?.alternatives != null && obj.alternatives.length === opts.limits.alternatives) {
                throw new MaxLengthError('Decode error - repeated field "alternatives" had too many elements')
              }

              obj.alternatives.push(PeerAlternative.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.alternatives$
              }))
              break
            }
            case 8: {
              obj.origin = reader.bool()
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
        const obj = {
          alternatives: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.type`,
                value: XferFrame.Type.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.contentId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.bitfield`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
              }
              break
            }
            case 7: {
              if (opts.limits?.alternatives != null && obj.alternatives === opts.limits.alternatives) {
                throw new MaxLengthError('Streaming decode error - repeated field "alternatives" had too many elements')
              }

              for (const evt of PeerAlternative.codec().stream(reader, reader.uint32(), `${prefix}.alternatives[]`, {
                limits: opts.limits?.alternatives$
              })) {
                yield {
                  ...evt,
                  index: obj.alternatives
                }
              }

              obj.alternatives++

              break
            }
            case 8: {
              yield {
                field: `${prefix}.origin`,
                value: reader.bool()
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

  export interface XferFrameTypeFieldEvent {
    field: '$.type'
    value: XferFrame.Type
  }

  export interface XferFrameContentIdFieldEvent {
    field: '$.contentId'
    value: string
  }

  export interface XferFrameBitfieldFieldEvent {
    field: '$.bitfield'
    value: Uint8Array<ArrayBuffer>
  }

  export interface XferFrameIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface XferFrameDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface XferFrameReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface XferFrameAlternativesPeerIdFieldEvent {
    field: '$.alternatives[].peerId'
    value: string
    index: number
  }

  export interface XferFrameAlternativesMultiaddrsFieldEvent {
    field: '$.alternatives[].multiaddrs[]'
    index: number
    value: string
  }

  export interface XferFrameOriginFieldEvent {
    field: '$.origin'
    value: boolean
  }

  export function encode (obj: Partial<XferFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, XferFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<XferFrame>): XferFrame {
    return decodeMessage(buf, XferFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<XferFrame>): Generator<XferFrameTypeFieldEvent | XferFrameContentIdFieldEvent | XferFrameBitfieldFieldEvent | XferFrameIndexFieldEvent | XferFrameDataFieldEvent | XferFrameReasonFieldEvent | XferFrameAlternativesPeerIdFieldEvent | XferFrameAlternativesMultiaddrsFieldEvent | XferFrameOriginFieldEvent> {
    return streamMessage(buf, XferFrame.codec(), opts)
  }
}

export interface PeerAlternative {
  peerId: string
  multiaddrs: string[]
}

export namespace PeerAlternative {
  let _codec: Codec<PeerAlternative>

  export const codec = (): Codec<PeerAlternative> => {
    if (_codec == null) {
      _codec = message<PeerAlternative>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peerId != null && obj.peerId !== '')) {
          w.uint32(10)
          w.string(obj.peerId)
        }

        if (obj.multiaddrs != null && obj.multiaddrs.length > 0) {
          for (const value of obj.multiaddrs) {
            w.uint32(18)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peerId: '',
          multiaddrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peerId = reader.string()
              break
            }
            case 2: {
              if (opts.limits?.multiaddrs != null && obj.multiaddrs.length === opts.limits.multiaddrs) {
                throw new MaxLengthError('Decode error - repeated field "multiaddrs" had too many elements')
              }

              obj.multiaddrs.push(reader.string())
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
        const obj = {
          multiaddrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.peerId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              if (opts.limits?.multiaddrs != null && obj.multiaddrs === opts.limits.multiaddrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "multiaddrs" had too many elements')
              }

              yield {
                field: `${prefix}.multiaddrs[]`,
                index: obj.multiaddrs,
                value: reader.string()
              }

              obj.multiaddrs++

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

  export interface PeerAlternativePeerIdFieldEvent {
    field: '$.peerId'
    value: string
  }

  export interface PeerAlternativeMultiaddrsFieldEvent {
    field: '$.multiaddrs[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<PeerAlternative>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PeerAlternative.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeerAlternative>): PeerAlternative {
    return decodeMessage(buf, PeerAlternative.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeerAlternative>): Generator<PeerAlternativePeerIdFieldEvent | PeerAlternativeMultiaddrsFieldEvent> {
    return streamMessage(buf, PeerAlternative.codec(), opts)
  }
}

export interface ManifestRequestFrame {
  contentId: string
}

export namespace ManifestRequestFrame {
  let _codec: Codec<ManifestRequestFrame>

  export const codec = (): Codec<ManifestRequestFrame> => {
    if (_codec == null) {
      _codec = message<ManifestRequestFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.contentId != null && obj.contentId !== '')) {
          w.uint32(10)
          w.string(obj.contentId)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          contentId: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.contentId = reader.string()
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
                field: `${prefix}.contentId`,
                value: reader.string()
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

  export interface ManifestRequestFrameContentIdFieldEvent {
    field: '$.contentId'
    value: string
  }

  export function encode (obj: Partial<ManifestRequestFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ManifestRequestFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ManifestRequestFrame>): ManifestRequestFrame {
    return decodeMessage(buf, ManifestRequestFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ManifestRequestFrame>): Generator<ManifestRequestFrameContentIdFieldEvent> {
    return streamMessage(buf, ManifestRequestFrame.codec(), opts)
  }
}

export interface ManifestResponseFrame {
  found: boolean
  signedManifest: Uint8Array<ArrayBuffer>
}

export namespace ManifestResponseFrame {
  let _codec: Codec<ManifestResponseFrame>

  export const codec = (): Codec<ManifestResponseFrame> => {
    if (_codec == null) {
      _codec = message<ManifestResponseFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.found != null && obj.found !== false)) {
          w.uint32(8)
          w.bool(obj.found)
        }

        if ((obj.signedManifest != null && obj.signedManifest.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signedManifest)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          found: false,
          signedManifest: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.found = reader.bool()
              break
            }
            case 2: {
              obj.signedManifest = reader.bytes()
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
                field: `${prefix}.found`,
                value: reader.bool()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signedManifest`,
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

  export interface ManifestResponseFrameFoundFieldEvent {
    field: '$.found'
    value: boolean
  }

  export interface ManifestResponseFrameSignedManifestFieldEvent {
    field: '$.signedManifest'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ManifestResponseFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ManifestResponseFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ManifestResponseFrame>): ManifestResponseFrame {
    return decodeMessage(buf, ManifestResponseFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ManifestResponseFrame>): Generator<ManifestResponseFrameFoundFieldEvent | ManifestResponseFrameSignedManifestFieldEvent> {
    return streamMessage(buf, ManifestResponseFrame.codec(), opts)
  }
}
