/**
 * The `/swarmcdn/dht/1.0.0` vocabulary as plain typed objects, shared by the
 * DHT among supernodes and seeders (ping, find node, get/add providers) and
 * by the supernode tier (attach, register, unregister, query, keep-alive).
 *
 * Rules: every request carries a `requestId` chosen by the requester and
 * every response echoes it; a response is only accepted from the peer the
 * request went to. The binding encodes these objects (its choice of codec)
 * and must call `checkDhtMessage` on every message it decodes or is about to
 * send: a message over the limits below is a protocol violation.
 */
import { KEY_LENGTH_BYTES, type Key } from '../ids.js'
import type { Contact } from '../dht/contact.js'

/** Largest encoded DHT message the binding may send or accept, in bytes (the length-prefix limit). */
export const MAX_DHT_MESSAGE_BYTES = 64 * 1024
/** Most contacts one message may carry (closer peers, providers, alternatives): k = 20. */
export const MAX_CONTACTS_PER_MESSAGE = 20
/** Most multiaddrs one contact may carry. */
export const MAX_ADDRS_PER_CONTACT = 8
/** Longest multiaddr string accepted, in characters. */
export const MAX_ADDR_CHARS = 256
/** Longest peer id string accepted, in characters. */
export const MAX_PEER_ID_CHARS = 128
/** Most content keys one register/unregister message may carry; a leaf sends more in several messages. */
export const MAX_KEYS_PER_MESSAGE = 512

/** Liveness probe; answered by `pong`. */
export interface PingMessage { type: 'ping', requestId: number }
/** Answer to `ping`. */
export interface PongMessage { type: 'pong', requestId: number }
/** Asks for the contacts closest to `target` the responder knows. */
export interface FindNodeMessage { type: 'find-node', requestId: number, target: Key }
/** Answer to `find-node`: up to k contacts closer to the target. */
export interface FindNodeReplyMessage { type: 'find-node-reply', requestId: number, closer: Contact[] }
/** Asks for the providers of `key`, and closer contacts. */
export interface GetProvidersMessage { type: 'get-providers', requestId: number, key: Key }
/** Answer to `get-providers`. */
export interface GetProvidersReplyMessage { type: 'get-providers-reply', requestId: number, providers: Contact[], closer: Contact[] }
/** Stores a provider record saying the SENDER provides `key` (a node cannot announce someone else); answered by `ack`. */
export interface AddProviderMessage { type: 'add-provider', requestId: number, key: Key }
/** A leaf asks a supernode to take it; answered by `attach-ok` or `attach-busy`. */
export interface AttachMessage { type: 'attach', requestId: number }
/** The supernode took the leaf; the leaf must send `keep-alive` at least every `keepAliveIntervalMs`. */
export interface AttachOkMessage { type: 'attach-ok', requestId: number, keepAliveIntervalMs: number, leaves: number, maxLeaves: number }
/** The supernode is full or overloaded and names other supernodes to try. */
export interface AttachBusyMessage { type: 'attach-busy', requestId: number, alternatives: Contact[] }
/**
 * A leaf declares content keys it holds; answered by `ack`. With
 * `indexOnly` the supernode indexes them (answers queries with this leaf)
 * but does not announce them in the DHT: another of the leaf's supernodes
 * does. A key registered index-only and later registered without it is
 * upgraded (the leaf's announcing supernode was lost).
 */
export interface RegisterMessage { type: 'register', requestId: number, keys: Key[], indexOnly?: boolean }
/** A leaf withdraws content keys; answered by `ack`. */
export interface UnregisterMessage { type: 'unregister', requestId: number, keys: Key[] }
/**
 * Asks a supernode for providers of `key`. From an attached leaf the
 * supernode answers from its leaf index and the DHT; with `localOnly` (one
 * supernode asking another that announced the key) from its leaf index only.
 */
export interface QueryMessage { type: 'query', requestId: number, key: Key, localOnly?: boolean }
/** Answer to `query`, providers ranked nearest the asker first. */
export interface QueryReplyMessage { type: 'query-reply', requestId: number, providers: Contact[] }
/** A leaf tells its supernode it is alive; answered by `ack`. */
export interface KeepAliveMessage { type: 'keep-alive', requestId: number }
/** Positive answer with no payload (add-provider, register, unregister, keep-alive). */
export interface AckMessage { type: 'ack', requestId: number }
/** Reason codes a responder may refuse with. */
export type DhtErrorCode = 'not-attached' | 'rate-limited' | 'not-a-dht-node' | 'too-many-keys' | 'bad-request'
/** Negative answer to any request. */
export interface ErrorMessage { type: 'error', requestId: number, code: DhtErrorCode }

/** Every request type. */
export type DhtRequest = PingMessage | FindNodeMessage | GetProvidersMessage | AddProviderMessage |
AttachMessage | RegisterMessage | UnregisterMessage | QueryMessage | KeepAliveMessage
/** Every response type. */
export type DhtResponse = PongMessage | FindNodeReplyMessage | GetProvidersReplyMessage | AttachOkMessage |
AttachBusyMessage | QueryReplyMessage | AckMessage | ErrorMessage
/** Any message of the DHT protocol. */
export type DhtMessage = DhtRequest | DhtResponse

const REQUEST_TYPES = new Set(['ping', 'find-node', 'get-providers', 'add-provider', 'attach', 'register', 'unregister', 'query', 'keep-alive'])

/** True when `m` is a request (it expects a response). */
export function isDhtRequest (m: DhtMessage): m is DhtRequest {
  return REQUEST_TYPES.has(m.type)
}

/** Thrown by `checkDhtMessage` when a message breaks a size or shape limit. */
export class DhtMessageLimitError extends Error {
  override name = 'DhtMessageLimitError'
  readonly code = 'ERR_DHT_MESSAGE_LIMIT'
}

function contactBytes (c: Contact): number {
  let n = KEY_LENGTH_BYTES + c.peerId.length + 8
  for (const a of c.addrs) n += a.length + 2
  return n
}

function checkContacts (what: string, list: Contact[], validate: boolean): number {
  if (validate && (!Array.isArray(list) || list.length > MAX_CONTACTS_PER_MESSAGE)) {
    throw new DhtMessageLimitError(`${what}: at most ${MAX_CONTACTS_PER_MESSAGE} contacts`)
  }
  let bytes = 0
  for (const c of list) {
    if (validate) {
      if (!(c.id instanceof Uint8Array) || c.id.length !== KEY_LENGTH_BYTES) throw new DhtMessageLimitError(`${what}: contact id must be ${KEY_LENGTH_BYTES} bytes`)
      if (typeof c.peerId !== 'string' || c.peerId.length === 0 || c.peerId.length > MAX_PEER_ID_CHARS) throw new DhtMessageLimitError(`${what}: bad peer id`)
      if (!Array.isArray(c.addrs) || c.addrs.length > MAX_ADDRS_PER_CONTACT) throw new DhtMessageLimitError(`${what}: at most ${MAX_ADDRS_PER_CONTACT} addrs per contact`)
      for (const a of c.addrs) if (typeof a !== 'string' || a.length > MAX_ADDR_CHARS) throw new DhtMessageLimitError(`${what}: addr over ${MAX_ADDR_CHARS} chars`)
    }
    bytes += contactBytes(c)
  }
  return bytes
}

function checkKey (what: string, k: unknown): void {
  if (!(k instanceof Uint8Array) || k.length !== KEY_LENGTH_BYTES) throw new DhtMessageLimitError(`${what}: key must be ${KEY_LENGTH_BYTES} bytes`)
}

/**
 * Validates the shape and limits of a decoded or outgoing message and
 * returns an upper estimate of its encoded size in bytes; throws
 * DhtMessageLimitError on any violation. The binding must still reject
 * frames longer than MAX_DHT_MESSAGE_BYTES before decoding.
 */
export function checkDhtMessage (m: DhtMessage): number { return measure(m, true) }

/**
 * checkDhtMessage's size estimate without its checks, for messages the core
 * built itself (the simulator sizes every message; the checks were 5% of a
 * run). Anything decoded from the wire goes through checkDhtMessage.
 */
export function estimateDhtMessageBytes (m: DhtMessage): number { return measure(m, false) }

function measure (m: DhtMessage, validate: boolean): number {
  if (validate) {
    if (m == null || typeof m !== 'object') throw new DhtMessageLimitError('not a message')
    if (!Number.isSafeInteger(m.requestId) || m.requestId < 0) throw new DhtMessageLimitError('bad requestId')
  }
  let bytes = 16
  switch (m.type) {
    case 'ping': case 'pong': case 'attach': case 'keep-alive': case 'ack': break
    case 'error': bytes += 16; break
    case 'find-node': if (validate) checkKey(m.type, m.target); bytes += KEY_LENGTH_BYTES; break
    case 'get-providers': case 'add-provider': if (validate) checkKey(m.type, m.key); bytes += KEY_LENGTH_BYTES; break
    case 'query': if (validate) checkKey(m.type, m.key); bytes += KEY_LENGTH_BYTES + 1; break
    case 'find-node-reply': bytes += checkContacts(m.type, m.closer, validate); break
    case 'get-providers-reply': bytes += checkContacts(m.type, m.providers, validate) + checkContacts(m.type, m.closer, validate); break
    case 'attach-ok': bytes += 24; break
    case 'attach-busy': bytes += checkContacts(m.type, m.alternatives, validate); break
    case 'query-reply': bytes += checkContacts(m.type, m.providers, validate); break
    case 'register': case 'unregister':
      if (validate) {
        if (!Array.isArray(m.keys) || m.keys.length > MAX_KEYS_PER_MESSAGE) throw new DhtMessageLimitError(`${m.type}: at most ${MAX_KEYS_PER_MESSAGE} keys`)
        for (const k of m.keys) checkKey(m.type, k)
      }
      bytes += m.keys.length * (KEY_LENGTH_BYTES + 2)
      break
    default: throw new DhtMessageLimitError(`unknown message type ${(m as { type: unknown }).type as string}`)
  }
  if (bytes > MAX_DHT_MESSAGE_BYTES) throw new DhtMessageLimitError(`message of ~${bytes} bytes over ${MAX_DHT_MESSAGE_BYTES}`)
  return bytes
}
