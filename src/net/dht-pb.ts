import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface DhtContact {
  peerId: string
  addrs: string[]
  origin: boolean
}

export namespace DhtContact {
  let _codec: Codec<DhtContact>

  export const codec = (): Codec<DhtContact> => {
    if (_codec == null) {
      _codec = message<DhtContact>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peerId != null && obj.peerId !== '')) {
          w.uint32(10)
          w.string(obj.peerId)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(18)
            w.string(value)
          }
        }

        if ((obj.origin != null && obj.origin !== false)) {
          w.uint32(24)
          w.bool(obj.origin)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peerId: '',
          addrs: [],
          origin: false
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
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.string())
              break
            }
            case 3: {
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
          addrs: 0
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
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.string()
              }

              obj.addrs++

              break
            }
            case 3: {
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

  export interface DhtContactPeerIdFieldEvent {
    field: '$.peerId'
    value: string
  }

  export interface DhtContactAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: string
  }

  export interface DhtContactOriginFieldEvent {
    field: '$.origin'
    value: boolean
  }

  export function encode (obj: Partial<DhtContact>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, DhtContact.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DhtContact>): DhtContact {
    return decodeMessage(buf, DhtContact.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DhtContact>): Generator<DhtContactPeerIdFieldEvent | DhtContactAddrsFieldEvent | DhtContactOriginFieldEvent> {
    return streamMessage(buf, DhtContact.codec(), opts)
  }
}

export interface DhtFrame {
  type: DhtFrame.Type
  requestId: number
  target: Uint8Array<ArrayBuffer>
  key: Uint8Array<ArrayBuffer>
  closer: DhtContact[]
  providers: DhtContact[]
  alternatives: DhtContact[]
  keys: Uint8Array<ArrayBuffer>[]
  localOnly: boolean
  keepAliveIntervalMs: number
  leaves: number
  maxLeaves: number
  errorCode: DhtFrame.ErrorCode
  senderRole: DhtFrame.Role
  senderAddrs: string[]
  indexOnly: boolean
}

export namespace DhtFrame {
  export enum Type {
    PING = 'PING',
    PONG = 'PONG',
    FIND_NODE = 'FIND_NODE',
    FIND_NODE_REPLY = 'FIND_NODE_REPLY',
    GET_PROVIDERS = 'GET_PROVIDERS',
    GET_PROVIDERS_REPLY = 'GET_PROVIDERS_REPLY',
    ADD_PROVIDER = 'ADD_PROVIDER',
    ATTACH = 'ATTACH',
    ATTACH_OK = 'ATTACH_OK',
    ATTACH_BUSY = 'ATTACH_BUSY',
    REGISTER = 'REGISTER',
    UNREGISTER = 'UNREGISTER',
    QUERY = 'QUERY',
    QUERY_REPLY = 'QUERY_REPLY',
    KEEP_ALIVE = 'KEEP_ALIVE',
    ACK = 'ACK',
    ERROR = 'ERROR'
  }

  enum __TypeValues {
    PING = 0,
    PONG = 1,
    FIND_NODE = 2,
    FIND_NODE_REPLY = 3,
    GET_PROVIDERS = 4,
    GET_PROVIDERS_REPLY = 5,
    ADD_PROVIDER = 6,
    ATTACH = 7,
    ATTACH_OK = 8,
    ATTACH_BUSY = 9,
    REGISTER = 10,
    UNREGISTER = 11,
    QUERY = 12,
    QUERY_REPLY = 13,
    KEEP_ALIVE = 14,
    ACK = 15,
    ERROR = 16
  }

  export namespace Type {
    export const codec = (): Codec<Type> => {
      return enumeration<Type>(__TypeValues)
    }
  }

  export enum ErrorCode {
    BAD_REQUEST = 'BAD_REQUEST',
    NOT_ATTACHED = 'NOT_ATTACHED',
    RATE_LIMITED = 'RATE_LIMITED',
    NOT_A_DHT_NODE = 'NOT_A_DHT_NODE',
    TOO_MANY_KEYS = 'TOO_MANY_KEYS'
  }

  enum __ErrorCodeValues {
    BAD_REQUEST = 0,
    NOT_ATTACHED = 1,
    RATE_LIMITED = 2,
    NOT_A_DHT_NODE = 3,
    TOO_MANY_KEYS = 4
  }

  export namespace ErrorCode {
    export const codec = (): Codec<ErrorCode> => {
      return enumeration<ErrorCode>(__ErrorCodeValues)
    }
  }

  export enum Role {
    LEAF = 'LEAF',
    SUPERNODE = 'SUPERNODE',
    SEEDER = 'SEEDER'
  }

  enum __RoleValues {
    LEAF = 0,
    SUPERNODE = 1,
    SEEDER = 2
  }

  export namespace Role {
    export const codec = (): Codec<Role> => {
      return enumeration<Role>(__RoleValues)
    }
  }

  let _codec: Codec<DhtFrame>

  export const codec = (): Codec<DhtFrame> => {
    if (_codec == null) {
      _codec = message<DhtFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.type != null && __TypeValues[obj.type] !== 0) {
          w.uint32(8)
          DhtFrame.Type.codec().encode(obj.type, w)
        }

        if ((obj.requestId != null && obj.requestId !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.requestId)
        }

        if ((obj.target != null && obj.target.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.target)
        }

        if ((obj.key != null && obj.key.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.key)
        }

        if (obj.closer != null && obj.closer.length > 0) {
          for (const value of obj.closer) {
            w.uint32(42)
            DhtContact.codec().encode(value, w)
          }
        }

        if (obj.providers != null && obj.providers.length > 0) {
          for (const value of obj.providers) {
            w.uint32(50)
            DhtContact.codec().encode(value, w)
          }
        }

        if (obj.alternatives != null && obj.alternatives.length > 0) {
          for (const value of obj.alternatives) {
            w.uint32(58)
            DhtContact.codec().encode(value, w)
          }
        }

        if (obj.keys != null && obj.keys.length > 0) {
          for (const value of obj.keys) {
            w.uint32(66)
            w.bytes(value)
          }
        }

        if ((obj.localOnly != null && obj.localOnly !== false)) {
          w.uint32(72)
          w.bool(obj.localOnly)
        }

        if ((obj.keepAliveIntervalMs != null && obj.keepAliveIntervalMs !== 0)) {
          w.uint32(80)
          w.uint32(obj.keepAliveIntervalMs)
        }

        if ((obj.leaves != null && obj.leaves !== 0)) {
          w.uint32(88)
          w.uint32(obj.leaves)
        }

        if ((obj.maxLeaves != null && obj.maxLeaves !== 0)) {
          w.uint32(96)
          w.uint32(obj.maxLeaves)
        }

        if (obj.errorCode != null && __ErrorCodeValues[obj.errorCode] !== 0) {
          w.uint32(104)
          DhtFrame.ErrorCode.codec().encode(obj.errorCode, w)
        }

        if (obj.senderRole != null && __RoleValues[obj.senderRole] !== 0) {
          w.uint32(112)
          DhtFrame.Role.codec().encode(obj.senderRole, w)
        }

        if (obj.senderAddrs != null && obj.senderAddrs.length > 0) {
          for (const value of obj.senderAddrs) {
            w.uint32(122)
            w.string(value)
          }
        }

        if ((obj.indexOnly != null && obj.indexOnly !== false)) {
          w.uint32(128)
          w.bool(obj.indexOnly)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: Type.PING,
          requestId: 0,
          target: uint8ArrayAlloc(0),
          key: uint8ArrayAlloc(0),
          closer: [],
          providers: [],
          alternatives: [],
          keys: [],
          localOnly: false,
          keepAliveIntervalMs: 0,
          leaves: 0,
          maxLeaves: 0,
          errorCode: ErrorCode.BAD_REQUEST,
          senderRole: Role.LEAF,
          senderAddrs: [],
          indexOnly: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.type = DhtFrame.Type.codec().decode(reader)
              break
            }
            case 2: {
              obj.requestId = reader.uint64Number()
              break
            }
            case 3: {
              obj.target = reader.bytes()
              break
            }
            case 4: {
              obj.key = reader.bytes()
              break
            }
            case 5: {
              if (opts.limits?.closer != null && obj.closer.length === opts.limits.closer) {
                throw new MaxLengthError('Decode error - repeated field "closer" had too many elements')
              }

              obj.closer.push(DhtContact.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.closer$
              }))
              break
            }
            case 6: {
              if (opts.limits?.providers != null && obj.providers.length === opts.limits.providers) {
                throw new MaxLengthError('Decode error - repeated field "providers" had too many elements')
              }

              obj.providers.push(DhtContact.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.providers$
              }))
              break
            }
            case 7: {
              if (opts.limits?.alternatives != null && obj.alternatives.length === opts.limits.alternatives) {
                throw new MaxLengthError('Decode error - repeated field "alternatives" had too many elements')
              }

              obj.alternatives.push(DhtContact.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.alternatives$
              }))
              break
            }
            case 8: {
              if (opts.limits?.keys != null && obj.keys.length === opts.limits.keys) {
                throw new MaxLengthError('Decode error - repeated field "keys" had too many elements')
              }

              obj.keys.push(reader.bytes())
              break
            }
            case 9: {
              obj.localOnly = reader.bool()
              break
            }
            case 10: {
              obj.keepAliveIntervalMs = reader.uint32()
              break
            }
            case 11: {
              obj.leaves = reader.uint32()
              break
            }
            case 12: {
              obj.maxLeaves = reader.uint32()
              break
            }
            case 13: {
              obj.errorCode = DhtFrame.ErrorCode.codec().decode(reader)
              break
            }
            case 14: {
              obj.senderRole = DhtFrame.Role.codec().decode(reader)
              break
            }
            case 15: {
              if (opts.limits?.senderAddrs != null && obj.senderAddrs.length === opts.limits.senderAddrs) {
                throw new MaxLengthError('Decode error - repeated field "senderAddrs" had too many elements')
              }

              obj.senderAddrs.push(reader.string())
              break
            }
            case 16: {
              obj.indexOnly = reader.bool()
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
          closer: 0,
          providers: 0,
          alternatives: 0,
          keys: 0,
          senderAddrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.type`,
                value: DhtFrame.Type.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.target`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.key`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              if (opts.limits?.closer != null && obj.closer === opts.limits.closer) {
                throw new MaxLengthError('Streaming decode error - repeated field "closer" had too many elements')
              }

              for (const evt of DhtContact.codec().stream(reader, reader.uint32(), `${prefix}.closer[]`, {
                limits: opts.limits?.closer$
              })) {
                yield {
                  ...evt,
                  index: obj.closer
                }
              }

              obj.closer++

              break
            }
            case 6: {
              if (opts.limits?.providers != null && obj.providers === opts.limits.providers) {
                throw new MaxLengthError('Streaming decode error - repeated field "providers" had too many elements')
              }

              for (const evt of DhtContact.codec().stream(reader, reader.uint32(), `${prefix}.providers[]`, {
                limits: opts.limits?.providers$
              })) {
                yield {
                  ...evt,
                  index: obj.providers
                }
              }

              obj.providers++

              break
            }
            case 7: {
              if (opts.limits?.alternatives != null && obj.alternatives === opts.limits.alternatives) {
                throw new MaxLengthError('Streaming decode error - repeated field "alternatives" had too many elements')
              }

              for (const evt of DhtContact.codec().stream(reader, reader.uint32(), `${prefix}.alternatives[]`, {
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
              if (opts.limits?.keys != null && obj.keys === opts.limits.keys) {
                throw new MaxLengthError('Streaming decode error - repeated field "keys" had too many elements')
              }

              yield {
                field: `${prefix}.keys[]`,
                index: obj.keys,
                value: reader.bytes()
              }

              obj.keys++

              break
            }
            case 9: {
              yield {
                field: `${prefix}.localOnly`,
                value: reader.bool()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.keepAliveIntervalMs`,
                value: reader.uint32()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.leaves`,
                value: reader.uint32()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.maxLeaves`,
                value: reader.uint32()
              }
              break
            }
            case 13: {
              yield {
                field: `${prefix}.errorCode`,
                value: DhtFrame.ErrorCode.codec().decode(reader)
              }
              break
            }
            case 14: {
              yield {
                field: `${prefix}.senderRole`,
                value: DhtFrame.Role.codec().decode(reader)
              }
              break
            }
            case 15: {
              if (opts.limits?.senderAddrs != null && obj.senderAddrs === opts.limits.senderAddrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "senderAddrs" had too many elements')
              }

              yield {
                field: `${prefix}.senderAddrs[]`,
                index: obj.senderAddrs,
                value: reader.string()
              }

              obj.senderAddrs++

              break
            }
            case 16: {
              yield {
                field: `${prefix}.indexOnly`,
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

  export interface DhtFrameTypeFieldEvent {
    field: '$.type'
    value: DhtFrame.Type
  }

  export interface DhtFrameRequestIdFieldEvent {
    field: '$.requestId'
    value: number
  }

  export interface DhtFrameTargetFieldEvent {
    field: '$.target'
    value: Uint8Array<ArrayBuffer>
  }

  export interface DhtFrameKeyFieldEvent {
    field: '$.key'
    value: Uint8Array<ArrayBuffer>
  }

  export interface DhtFrameCloserPeerIdFieldEvent {
    field: '$.closer[].peerId'
    value: string
    index: number
  }

  export interface DhtFrameCloserAddrsFieldEvent {
    field: '$.closer[].addrs[]'
    index: number
    value: string
  }

  export interface DhtFrameCloserOriginFieldEvent {
    field: '$.closer[].origin'
    value: boolean
    index: number
  }

  export interface DhtFrameProvidersPeerIdFieldEvent {
    field: '$.providers[].peerId'
    value: string
    index: number
  }

  export interface DhtFrameProvidersAddrsFieldEvent {
    field: '$.providers[].addrs[]'
    index: number
    value: string
  }

  export interface DhtFrameProvidersOriginFieldEvent {
    field: '$.providers[].origin'
    value: boolean
    index: number
  }

  export interface DhtFrameAlternativesPeerIdFieldEvent {
    field: '$.alternatives[].peerId'
    value: string
    index: number
  }

  export interface DhtFrameAlternativesAddrsFieldEvent {
    field: '$.alternatives[].addrs[]'
    index: number
    value: string
  }

  export interface DhtFrameAlternativesOriginFieldEvent {
    field: '$.alternatives[].origin'
    value: boolean
    index: number
  }

  export interface DhtFrameKeysFieldEvent {
    field: '$.keys[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface DhtFrameLocalOnlyFieldEvent {
    field: '$.localOnly'
    value: boolean
  }

  export interface DhtFrameKeepAliveIntervalMsFieldEvent {
    field: '$.keepAliveIntervalMs'
    value: number
  }

  export interface DhtFrameLeavesFieldEvent {
    field: '$.leaves'
    value: number
  }

  export interface DhtFrameMaxLeavesFieldEvent {
    field: '$.maxLeaves'
    value: number
  }

  export interface DhtFrameErrorCodeFieldEvent {
    field: '$.errorCode'
    value: DhtFrame.ErrorCode
  }

  export interface DhtFrameSenderRoleFieldEvent {
    field: '$.senderRole'
    value: DhtFrame.Role
  }

  export interface DhtFrameSenderAddrsFieldEvent {
    field: '$.senderAddrs[]'
    index: number
    value: string
  }

  export interface DhtFrameIndexOnlyFieldEvent {
    field: '$.indexOnly'
    value: boolean
  }

  export function encode (obj: Partial<DhtFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, DhtFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DhtFrame>): DhtFrame {
    return decodeMessage(buf, DhtFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DhtFrame>): Generator<DhtFrameTypeFieldEvent | DhtFrameRequestIdFieldEvent | DhtFrameTargetFieldEvent | DhtFrameKeyFieldEvent | DhtFrameCloserPeerIdFieldEvent | DhtFrameCloserAddrsFieldEvent | DhtFrameCloserOriginFieldEvent | DhtFrameProvidersPeerIdFieldEvent | DhtFrameProvidersAddrsFieldEvent | DhtFrameProvidersOriginFieldEvent | DhtFrameAlternativesPeerIdFieldEvent | DhtFrameAlternativesAddrsFieldEvent | DhtFrameAlternativesOriginFieldEvent | DhtFrameKeysFieldEvent | DhtFrameLocalOnlyFieldEvent | DhtFrameKeepAliveIntervalMsFieldEvent | DhtFrameLeavesFieldEvent | DhtFrameMaxLeavesFieldEvent | DhtFrameErrorCodeFieldEvent | DhtFrameSenderRoleFieldEvent | DhtFrameSenderAddrsFieldEvent | DhtFrameIndexOnlyFieldEvent> {
    return streamMessage(buf, DhtFrame.codec(), opts)
  }
}
