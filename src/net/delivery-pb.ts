import { decodeMessage, encodeMessage, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface LocalityBytes {
  sameAs: bigint
  samePrefix: bigint
  otherAs: bigint
  unknown: bigint
}

export namespace LocalityBytes {
  let _codec: Codec<LocalityBytes>

  export const codec = (): Codec<LocalityBytes> => {
    if (_codec == null) {
      _codec = message<LocalityBytes>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.sameAs != null && obj.sameAs !== 0n)) {
          w.uint32(8)
          w.uint64(obj.sameAs)
        }

        if ((obj.samePrefix != null && obj.samePrefix !== 0n)) {
          w.uint32(16)
          w.uint64(obj.samePrefix)
        }

        if ((obj.otherAs != null && obj.otherAs !== 0n)) {
          w.uint32(24)
          w.uint64(obj.otherAs)
        }

        if ((obj.unknown != null && obj.unknown !== 0n)) {
          w.uint32(32)
          w.uint64(obj.unknown)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          sameAs: 0n,
          samePrefix: 0n,
          otherAs: 0n,
          unknown: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.sameAs = reader.uint64()
              break
            }
            case 2: {
              obj.samePrefix = reader.uint64()
              break
            }
            case 3: {
              obj.otherAs = reader.uint64()
              break
            }
            case 4: {
              obj.unknown = reader.uint64()
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
                field: `${prefix}.sameAs`,
                value: reader.uint64()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.samePrefix`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.otherAs`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.unknown`,
                value: reader.uint64()
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

  export interface LocalityBytesSameAsFieldEvent {
    field: '$.sameAs'
    value: bigint
  }

  export interface LocalityBytesSamePrefixFieldEvent {
    field: '$.samePrefix'
    value: bigint
  }

  export interface LocalityBytesOtherAsFieldEvent {
    field: '$.otherAs'
    value: bigint
  }

  export interface LocalityBytesUnknownFieldEvent {
    field: '$.unknown'
    value: bigint
  }

  export function encode (obj: Partial<LocalityBytes>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LocalityBytes.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LocalityBytes>): LocalityBytes {
    return decodeMessage(buf, LocalityBytes.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LocalityBytes>): Generator<LocalityBytesSameAsFieldEvent | LocalityBytesSamePrefixFieldEvent | LocalityBytesOtherAsFieldEvent | LocalityBytesUnknownFieldEvent> {
    return streamMessage(buf, LocalityBytes.codec(), opts)
  }
}

export interface DeliveryReportFrame {
  contentId: string
  origin?: LocalityBytes
  peer?: LocalityBytes
}

export namespace DeliveryReportFrame {
  let _codec: Codec<DeliveryReportFrame>

  export const codec = (): Codec<DeliveryReportFrame> => {
    if (_codec == null) {
      _codec = message<DeliveryReportFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.contentId != null && obj.contentId !== '')) {
          w.uint32(10)
          w.string(obj.contentId)
        }

        if (obj.origin != null) {
          w.uint32(18)
          LocalityBytes.codec().encode(obj.origin, w)
        }

        if (obj.peer != null) {
          w.uint32(26)
          LocalityBytes.codec().encode(obj.peer, w)
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
            case 2: {
              obj.origin = LocalityBytes.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.origin
              })
              break
            }
            case 3: {
              obj.peer = LocalityBytes.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.peer
              })
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
            case 2: {
              yield * LocalityBytes.codec().stream(reader, reader.uint32(), `${prefix}.origin`, {
                limits: opts.limits?.origin
              })

              break
            }
            case 3: {
              yield * LocalityBytes.codec().stream(reader, reader.uint32(), `${prefix}.peer`, {
                limits: opts.limits?.peer
              })

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

  export interface DeliveryReportFrameContentIdFieldEvent {
    field: '$.contentId'
    value: string
  }

  export interface DeliveryReportFrameOriginSameAsFieldEvent {
    field: '$.origin.sameAs'
    value: bigint
  }

  export interface DeliveryReportFrameOriginSamePrefixFieldEvent {
    field: '$.origin.samePrefix'
    value: bigint
  }

  export interface DeliveryReportFrameOriginOtherAsFieldEvent {
    field: '$.origin.otherAs'
    value: bigint
  }

  export interface DeliveryReportFrameOriginUnknownFieldEvent {
    field: '$.origin.unknown'
    value: bigint
  }

  export interface DeliveryReportFramePeerSameAsFieldEvent {
    field: '$.peer.sameAs'
    value: bigint
  }

  export interface DeliveryReportFramePeerSamePrefixFieldEvent {
    field: '$.peer.samePrefix'
    value: bigint
  }

  export interface DeliveryReportFramePeerOtherAsFieldEvent {
    field: '$.peer.otherAs'
    value: bigint
  }

  export interface DeliveryReportFramePeerUnknownFieldEvent {
    field: '$.peer.unknown'
    value: bigint
  }

  export function encode (obj: Partial<DeliveryReportFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, DeliveryReportFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DeliveryReportFrame>): DeliveryReportFrame {
    return decodeMessage(buf, DeliveryReportFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DeliveryReportFrame>): Generator<DeliveryReportFrameContentIdFieldEvent | DeliveryReportFrameOriginSameAsFieldEvent | DeliveryReportFrameOriginSamePrefixFieldEvent | DeliveryReportFrameOriginOtherAsFieldEvent | DeliveryReportFrameOriginUnknownFieldEvent | DeliveryReportFramePeerSameAsFieldEvent | DeliveryReportFramePeerSamePrefixFieldEvent | DeliveryReportFramePeerOtherAsFieldEvent | DeliveryReportFramePeerUnknownFieldEvent> {
    return streamMessage(buf, DeliveryReportFrame.codec(), opts)
  }
}

export interface DeliveryAckFrame {
  verdict: string
}

export namespace DeliveryAckFrame {
  let _codec: Codec<DeliveryAckFrame>

  export const codec = (): Codec<DeliveryAckFrame> => {
    if (_codec == null) {
      _codec = message<DeliveryAckFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.verdict != null && obj.verdict !== '')) {
          w.uint32(10)
          w.string(obj.verdict)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          verdict: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.verdict = reader.string()
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
                field: `${prefix}.verdict`,
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

  export interface DeliveryAckFrameVerdictFieldEvent {
    field: '$.verdict'
    value: string
  }

  export function encode (obj: Partial<DeliveryAckFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, DeliveryAckFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DeliveryAckFrame>): DeliveryAckFrame {
    return decodeMessage(buf, DeliveryAckFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DeliveryAckFrame>): Generator<DeliveryAckFrameVerdictFieldEvent> {
    return streamMessage(buf, DeliveryAckFrame.codec(), opts)
  }
}
