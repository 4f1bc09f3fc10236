import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface AutoNatMessage {
  dialRequest?: AutoNatDialRequest
  dialResponse?: AutoNatDialResponse
  dialDataRequest?: AutoNatDialDataRequest
  dialDataResponse?: AutoNatDialDataResponse
}

export namespace AutoNatMessage {
  let _codec: Codec<AutoNatMessage>

  export const codec = (): Codec<AutoNatMessage> => {
    if (_codec == null) {
      _codec = message<AutoNatMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        obj = { ...obj }

        if (obj.dialDataResponse != null) {
          obj.dialDataRequest = undefined
          obj.dialResponse = undefined
          obj.dialRequest = undefined
        }

        if (obj.dialDataRequest != null) {
          obj.dialDataResponse = undefined
          obj.dialResponse = undefined
          obj.dialRequest = undefined
        }

        if (obj.dialResponse != null) {
          obj.dialDataResponse = undefined
          obj.dialDataRequest = undefined
          obj.dialRequest = undefined
        }

        if (obj.dialRequest != null) {
          obj.dialDataResponse = undefined
          obj.dialDataRequest = undefined
          obj.dialResponse = undefined
        }

        if (obj.dialRequest != null) {
          w.uint32(10)
          AutoNatDialRequest.codec().encode(obj.dialRequest, w)
        }

        if (obj.dialResponse != null) {
          w.uint32(18)
          AutoNatDialResponse.codec().encode(obj.dialResponse, w)
        }

        if (obj.dialDataRequest != null) {
          w.uint32(26)
          AutoNatDialDataRequest.codec().encode(obj.dialDataRequest, w)
        }

        if (obj.dialDataResponse != null) {
          w.uint32(34)
          AutoNatDialDataResponse.codec().encode(obj.dialDataResponse, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.dialRequest = AutoNatDialRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.dialRequest
              })
              break
            }
            case 2: {
              obj.dialResponse = AutoNatDialResponse.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.dialResponse
              })
              break
            }
            case 3: {
              obj.dialDataRequest = AutoNatDialDataRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.dialDataRequest
              })
              break
            }
            case 4: {
              obj.dialDataResponse = AutoNatDialDataResponse.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.dialDataResponse
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        if (obj.dialDataResponse != null) {
          delete obj.dialDataRequest
          delete obj.dialResponse
          delete obj.dialRequest
        }

        if (obj.dialDataRequest != null) {
          delete obj.dialDataResponse
          delete obj.dialResponse
          delete obj.dialRequest
        }

        if (obj.dialResponse != null) {
          delete obj.dialDataResponse
          delete obj.dialDataRequest
          delete obj.dialRequest
        }

        if (obj.dialRequest != null) {
          delete obj.dialDataResponse
          delete obj.dialDataRequest
          delete obj.dialResponse
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * AutoNatDialRequest.codec().stream(reader, reader.uint32(), `${prefix}.dialRequest`, {
                limits: opts.limits?.dialRequest
              })

              break
            }
            case 2: {
              yield * AutoNatDialResponse.codec().stream(reader, reader.uint32(), `${prefix}.dialResponse`, {
                limits: opts.limits?.dialResponse
              })

              break
            }
            case 3: {
              yield * AutoNatDialDataRequest.codec().stream(reader, reader.uint32(), `${prefix}.dialDataRequest`, {
                limits: opts.limits?.dialDataRequest
              })

              break
            }
            case 4: {
              yield * AutoNatDialDataResponse.codec().stream(reader, reader.uint32(), `${prefix}.dialDataResponse`, {
                limits: opts.limits?.dialDataResponse
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

  export interface AutoNatMessageDialRequestAddrsFieldEvent {
    field: '$.dialRequest.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface AutoNatMessageDialRequestNonceFieldEvent {
    field: '$.dialRequest.nonce'
    value: bigint
  }

  export interface AutoNatMessageDialResponseStatusFieldEvent {
    field: '$.dialResponse.status'
    value: AutoNatDialResponse.ResponseStatus
  }

  export interface AutoNatMessageDialResponseAddrIdxFieldEvent {
    field: '$.dialResponse.addrIdx'
    value: number
  }

  export interface AutoNatMessageDialResponseDialStatusFieldEvent {
    field: '$.dialResponse.dialStatus'
    value: AutoNatDialStatus
  }

  export interface AutoNatMessageDialDataRequestAddrIdxFieldEvent {
    field: '$.dialDataRequest.addrIdx'
    value: number
  }

  export interface AutoNatMessageDialDataRequestNumBytesFieldEvent {
    field: '$.dialDataRequest.numBytes'
    value: bigint
  }

  export interface AutoNatMessageDialDataResponseDataFieldEvent {
    field: '$.dialDataResponse.data'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<AutoNatMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AutoNatMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AutoNatMessage>): AutoNatMessage {
    return decodeMessage(buf, AutoNatMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AutoNatMessage>): Generator<AutoNatMessageDialRequestAddrsFieldEvent | AutoNatMessageDialRequestNonceFieldEvent | AutoNatMessageDialResponseStatusFieldEvent | AutoNatMessageDialResponseAddrIdxFieldEvent | AutoNatMessageDialResponseDialStatusFieldEvent | AutoNatMessageDialDataRequestAddrIdxFieldEvent | AutoNatMessageDialDataRequestNumBytesFieldEvent | AutoNatMessageDialDataResponseDataFieldEvent> {
    return streamMessage(buf, AutoNatMessage.codec(), opts)
  }
}

export interface AutoNatDialRequest {
  addrs: Uint8Array<ArrayBuffer>[]
  nonce: bigint
}

export namespace AutoNatDialRequest {
  let _codec: Codec<AutoNatDialRequest>

  export const codec = (): Codec<AutoNatDialRequest> => {
    if (_codec == null) {
      _codec = message<AutoNatDialRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if ((obj.nonce != null && obj.nonce !== 0n)) {
          w.uint32(17)
          w.fixed64(obj.nonce)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          addrs: [],
          nonce: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 2: {
              obj.nonce = reader.fixed64()
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
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

              break
            }
            case 2: {
              yield {
                field: `${prefix}.nonce`,
                value: reader.fixed64()
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

  export interface AutoNatDialRequestAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface AutoNatDialRequestNonceFieldEvent {
    field: '$.nonce'
    value: bigint
  }

  export function encode (obj: Partial<AutoNatDialRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AutoNatDialRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AutoNatDialRequest>): AutoNatDialRequest {
    return decodeMessage(buf, AutoNatDialRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AutoNatDialRequest>): Generator<AutoNatDialRequestAddrsFieldEvent | AutoNatDialRequestNonceFieldEvent> {
    return streamMessage(buf, AutoNatDialRequest.codec(), opts)
  }
}

export interface AutoNatDialDataRequest {
  addrIdx: number
  numBytes: bigint
}

export namespace AutoNatDialDataRequest {
  let _codec: Codec<AutoNatDialDataRequest>

  export const codec = (): Codec<AutoNatDialDataRequest> => {
    if (_codec == null) {
      _codec = message<AutoNatDialDataRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.addrIdx != null && obj.addrIdx !== 0)) {
          w.uint32(8)
          w.uint32(obj.addrIdx)
        }

        if ((obj.numBytes != null && obj.numBytes !== 0n)) {
          w.uint32(16)
          w.uint64(obj.numBytes)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          addrIdx: 0,
          numBytes: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.addrIdx = reader.uint32()
              break
            }
            case 2: {
              obj.numBytes = reader.uint64()
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
                field: `${prefix}.addrIdx`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.numBytes`,
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

  export interface AutoNatDialDataRequestAddrIdxFieldEvent {
    field: '$.addrIdx'
    value: number
  }

  export interface AutoNatDialDataRequestNumBytesFieldEvent {
    field: '$.numBytes'
    value: bigint
  }

  export function encode (obj: Partial<AutoNatDialDataRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AutoNatDialDataRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AutoNatDialDataRequest>): AutoNatDialDataRequest {
    return decodeMessage(buf, AutoNatDialDataRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AutoNatDialDataRequest>): Generator<AutoNatDialDataRequestAddrIdxFieldEvent | AutoNatDialDataRequestNumBytesFieldEvent> {
    return streamMessage(buf, AutoNatDialDataRequest.codec(), opts)
  }
}

export enum AutoNatDialStatus {
  UNUSED = 'UNUSED',
  E_DIAL_ERROR = 'E_DIAL_ERROR',
  E_DIAL_BACK_ERROR = 'E_DIAL_BACK_ERROR',
  OK = 'OK'
}

enum __AutoNatDialStatusValues {
  UNUSED = 0,
  E_DIAL_ERROR = 100,
  E_DIAL_BACK_ERROR = 101,
  OK = 200
}

export namespace AutoNatDialStatus {
  export const codec = (): Codec<AutoNatDialStatus> => {
    return enumeration<AutoNatDialStatus>(__AutoNatDialStatusValues)
  }
}

export interface AutoNatDialResponse {
  status: AutoNatDialResponse.ResponseStatus
  addrIdx: number
  dialStatus: AutoNatDialStatus
}

export namespace AutoNatDialResponse {
  export enum ResponseStatus {
    E_INTERNAL_ERROR = 'E_INTERNAL_ERROR',
    E_REQUEST_REJECTED = 'E_REQUEST_REJECTED',
    E_DIAL_REFUSED = 'E_DIAL_REFUSED',
    OK = 'OK'
  }

  enum __ResponseStatusValues {
    E_INTERNAL_ERROR = 0,
    E_REQUEST_REJECTED = 100,
    E_DIAL_REFUSED = 101,
    OK = 200
  }

  export namespace ResponseStatus {
    export const codec = (): Codec<ResponseStatus> => {
      return enumeration<ResponseStatus>(__ResponseStatusValues)
    }
  }

  let _codec: Codec<AutoNatDialResponse>

  export const codec = (): Codec<AutoNatDialResponse> => {
    if (_codec == null) {
      _codec = message<AutoNatDialResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __ResponseStatusValues[obj.status] !== 0) {
          w.uint32(8)
          AutoNatDialResponse.ResponseStatus.codec().encode(obj.status, w)
        }

        if ((obj.addrIdx != null && obj.addrIdx !== 0)) {
          w.uint32(16)
          w.uint32(obj.addrIdx)
        }

        if (obj.dialStatus != null && __AutoNatDialStatusValues[obj.dialStatus] !== 0) {
          w.uint32(24)
          AutoNatDialStatus.codec().encode(obj.dialStatus, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: ResponseStatus.E_INTERNAL_ERROR,
          addrIdx: 0,
          dialStatus: AutoNatDialStatus.UNUSED
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = AutoNatDialResponse.ResponseStatus.codec().decode(reader)
              break
            }
            case 2: {
              obj.addrIdx = reader.uint32()
              break
            }
            case 3: {
              obj.dialStatus = AutoNatDialStatus.codec().decode(reader)
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
                field: `${prefix}.status`,
                value: AutoNatDialResponse.ResponseStatus.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.addrIdx`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.dialStatus`,
                value: AutoNatDialStatus.codec().decode(reader)
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

  export interface AutoNatDialResponseStatusFieldEvent {
    field: '$.status'
    value: AutoNatDialResponse.ResponseStatus
  }

  export interface AutoNatDialResponseAddrIdxFieldEvent {
    field: '$.addrIdx'
    value: number
  }

  export interface AutoNatDialResponseDialStatusFieldEvent {
    field: '$.dialStatus'
    value: AutoNatDialStatus
  }

  export function encode (obj: Partial<AutoNatDialResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AutoNatDialResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AutoNatDialResponse>): AutoNatDialResponse {
    return decodeMessage(buf, AutoNatDialResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AutoNatDialResponse>): Generator<AutoNatDialResponseStatusFieldEvent | AutoNatDialResponseAddrIdxFieldEvent | AutoNatDialResponseDialStatusFieldEvent> {
    return streamMessage(buf, AutoNatDialResponse.codec(), opts)
  }
}

export interface AutoNatDialDataResponse {
  data: Uint8Array<ArrayBuffer>
}

export namespace AutoNatDialDataResponse {
  let _codec: Codec<AutoNatDialDataResponse>

  export const codec = (): Codec<AutoNatDialDataResponse> => {
    if (_codec == null) {
      _codec = message<AutoNatDialDataResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.data = reader.bytes()
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
                field: `${prefix}.data`,
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

  export interface AutoNatDialDataResponseDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<AutoNatDialDataResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AutoNatDialDataResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AutoNatDialDataResponse>): AutoNatDialDataResponse {
    return decodeMessage(buf, AutoNatDialDataResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AutoNatDialDataResponse>): Generator<AutoNatDialDataResponseDataFieldEvent> {
    return streamMessage(buf, AutoNatDialDataResponse.codec(), opts)
  }
}
