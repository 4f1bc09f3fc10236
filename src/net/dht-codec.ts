/**
 * Encoding of `/swarmcdn/dht/1.0.0` frames: protobuf (src/net/dht.proto,
 * generated with `npx protons src/net/dht.proto`, renamed to dht-pb.ts),
 * the same codec as the xfer protocol so the wire stays one format and
 * field numbers give forward compatibility.
 *
 * Rules: a frame is one DhtMessage plus the sender's role and dialable
 * addresses. Decoding is strict: the frame must fit MAX_DHT_MESSAGE_BYTES,
 * repeated fields are capped while parsing (protons `limits`, so a frame
 * cannot make us allocate more than its own size suggests), every peer id
 * must parse and every address must be a valid multiaddr, and the result
 * must pass the core's checkDhtMessage. Contacts carry no key on the wire:
 * the receiver computes keyFromBytes(peerId multihash), so a sender cannot
 * place contacts at ids of its choice. Anything else is a DhtFrameError,
 * which the driver turns into a stream reset and a protocolViolation.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { DhtContact, DhtFrame } from './dht-pb.js'
import { keyFromBytes, KEY_LENGTH_BYTES, type Key } from '../core/ids.js'
import type { Contact } from '../core/dht/contact.js'
import type { OverlayRole } from '../core/tier/supernode-policy.js'
import {
  checkDhtMessage, MAX_ADDR_CHARS, MAX_ADDRS_PER_CONTACT, MAX_CONTACTS_PER_MESSAGE, MAX_DHT_MESSAGE_BYTES,
  MAX_KEYS_PER_MESSAGE, MAX_PEER_ID_CHARS, type DhtErrorCode, type DhtMessage
} from '../core/messages/dht-messages.js'

/** A frame that is oversize, does not decode, or decodes to a message that breaks the protocol's limits. */
export class DhtFrameError extends Error {
  override name = 'DhtFrameError'
  readonly code = 'ERR_DHT_FRAME'
  /** Always the sender's fault: counts against it (net/offender-guard.ts). */
  readonly peerFault = true
}

/** One decoded frame: the message and what the sender says about itself. */
export interface DhtFrameContent {
  message: DhtMessage
  /** The sender's declared role (a leaf claiming more only earns requests it must answer). */
  senderRole: OverlayRole
  /** Where the sender can be dialed (at most MAX_ADDRS_PER_CONTACT multiaddr strings). */
  senderAddrs: string[]
}

/** The DHT key of a libp2p peer id string: SHA-256 of its multihash bytes. */
export function keyOfPeerId (peerId: string): Key {
  return keyFromBytes(peerIdFromString(peerId).toMultihash().bytes)
}

const TYPE_OUT: Record<DhtMessage['type'], DhtFrame.Type> = {
  ping: DhtFrame.Type.PING,
  pong: DhtFrame.Type.PONG,
  'find-node': DhtFrame.Type.FIND_NODE,
  'find-node-reply': DhtFrame.Type.FIND_NODE_REPLY,
  'get-providers': DhtFrame.Type.GET_PROVIDERS,
  'get-providers-reply': DhtFrame.Type.GET_PROVIDERS_REPLY,
  'add-provider': DhtFrame.Type.ADD_PROVIDER,
  attach: DhtFrame.Type.ATTACH,
  'attach-ok': DhtFrame.Type.ATTACH_OK,
  'attach-busy': DhtFrame.Type.ATTACH_BUSY,
  register: DhtFrame.Type.REGISTER,
  unregister: DhtFrame.Type.UNREGISTER,
  query: DhtFrame.Type.QUERY,
  'query-reply': DhtFrame.Type.QUERY_REPLY,
  'keep-alive': DhtFrame.Type.KEEP_ALIVE,
  ack: DhtFrame.Type.ACK,
  error: DhtFrame.Type.ERROR
}

const ERROR_OUT: Record<DhtErrorCode, DhtFrame.ErrorCode> = {
  'bad-request': DhtFrame.ErrorCode.BAD_REQUEST,
  'not-attached': DhtFrame.ErrorCode.NOT_ATTACHED,
  'rate-limited': DhtFrame.ErrorCode.RATE_LIMITED,
  'not-a-dht-node': DhtFrame.ErrorCode.NOT_A_DHT_NODE,
  'too-many-keys': DhtFrame.ErrorCode.TOO_MANY_KEYS
}
const ERROR_IN = new Map<string, DhtErrorCode>(Object.entries(ERROR_OUT).map(([k, v]) => [v, k as DhtErrorCode]))

const ROLE_OUT: Record<OverlayRole, DhtFrame.Role> = { leaf: DhtFrame.Role.LEAF, supernode: DhtFrame.Role.SUPERNODE, seeder: DhtFrame.Role.SEEDER }
const ROLE_IN = new Map<string, OverlayRole>(Object.entries(ROLE_OUT).map(([k, v]) => [v, k as OverlayRole]))

/** Parse-time caps: each list at most its protocol limit, each contact's address list too. */
const DECODE_LIMITS = {
  closer: MAX_CONTACTS_PER_MESSAGE,
  providers: MAX_CONTACTS_PER_MESSAGE,
  alternatives: MAX_CONTACTS_PER_MESSAGE,
  keys: MAX_KEYS_PER_MESSAGE,
  senderAddrs: MAX_ADDRS_PER_CONTACT,
  closer$: { addrs: MAX_ADDRS_PER_CONTACT },
  providers$: { addrs: MAX_ADDRS_PER_CONTACT },
  alternatives$: { addrs: MAX_ADDRS_PER_CONTACT }
}

function contactOut (c: Contact): DhtContact {
  return { peerId: c.peerId, addrs: c.addrs, origin: c.origin === true }
}

function checkAddrs (addrs: string[]): string[] {
  if (addrs.length > MAX_ADDRS_PER_CONTACT) throw new DhtFrameError(`more than ${MAX_ADDRS_PER_CONTACT} addresses`)
  for (const a of addrs) {
    if (a.length > MAX_ADDR_CHARS) throw new DhtFrameError(`address over ${MAX_ADDR_CHARS} characters`)
    try { multiaddr(a) } catch { throw new DhtFrameError(`not a multiaddr: ${JSON.stringify(a.slice(0, 60))}`) }
  }
  return addrs
}

function contactIn (c: DhtContact): Contact {
  if (c.peerId.length === 0 || c.peerId.length > MAX_PEER_ID_CHARS) throw new DhtFrameError('bad contact peer id length')
  let id: Key
  try { id = keyOfPeerId(c.peerId) } catch { throw new DhtFrameError(`not a peer id: ${JSON.stringify(c.peerId.slice(0, 60))}`) }
  const out: Contact = { id, peerId: c.peerId, addrs: checkAddrs(c.addrs) }
  if (c.origin) out.origin = true
  return out
}

function keyIn (what: string, k: Uint8Array): Key {
  if (k.length !== KEY_LENGTH_BYTES) throw new DhtFrameError(`${what}: key must be ${KEY_LENGTH_BYTES} bytes, got ${k.length}`)
  return k
}

/**
 * Encodes one frame. Throws DhtMessageLimitError / DhtFrameError when OUR
 * message breaks the limits (a bug on our side, never sent).
 */
export function encodeDhtFrame (frame: DhtFrameContent): Uint8Array {
  const m = frame.message
  checkDhtMessage(m)
  const f: Partial<DhtFrame> = {
    type: TYPE_OUT[m.type],
    requestId: m.requestId,
    senderRole: ROLE_OUT[frame.senderRole],
    senderAddrs: frame.senderAddrs.slice(0, MAX_ADDRS_PER_CONTACT)
  }
  switch (m.type) {
    case 'find-node': f.target = m.target as Uint8Array<ArrayBuffer>; break
    case 'get-providers': case 'add-provider': f.key = m.key as Uint8Array<ArrayBuffer>; break
    case 'query': f.key = m.key as Uint8Array<ArrayBuffer>; f.localOnly = m.localOnly === true; break
    case 'find-node-reply': f.closer = m.closer.map(contactOut); break
    case 'get-providers-reply': f.providers = m.providers.map(contactOut); f.closer = m.closer.map(contactOut); break
    case 'attach-ok': f.keepAliveIntervalMs = m.keepAliveIntervalMs; f.leaves = m.leaves; f.maxLeaves = m.maxLeaves; break
    case 'attach-busy': f.alternatives = m.alternatives.map(contactOut); break
    case 'query-reply': f.providers = m.providers.map(contactOut); break
    case 'register': f.keys = m.keys as Array<Uint8Array<ArrayBuffer>>; f.indexOnly = m.indexOnly === true; break
    case 'unregister': f.keys = m.keys as Array<Uint8Array<ArrayBuffer>>; break
    case 'error': f.errorCode = ERROR_OUT[m.code]; break
    default: break
  }
  const bytes = DhtFrame.encode(f)
  if (bytes.length > MAX_DHT_MESSAGE_BYTES) throw new DhtFrameError(`frame of ${bytes.length} bytes over ${MAX_DHT_MESSAGE_BYTES}`)
  return bytes
}

/** Decodes and validates one frame; throws DhtFrameError for anything a well-behaved peer would not send. */
export function decodeDhtFrame (bytes: Uint8Array): DhtFrameContent {
  if (bytes.length > MAX_DHT_MESSAGE_BYTES) throw new DhtFrameError(`frame of ${bytes.length} bytes over ${MAX_DHT_MESSAGE_BYTES}`)
  let f: DhtFrame
  try {
    f = DhtFrame.decode(bytes, { limits: DECODE_LIMITS })
  } catch (err) {
    throw new DhtFrameError(`malformed dht frame: ${(err as Error).message}`)
  }
  const senderRole = ROLE_IN.get(f.senderRole)
  if (senderRole == null) throw new DhtFrameError('unknown sender role')
  const requestId = f.requestId
  let message: DhtMessage
  switch (f.type) {
    case DhtFrame.Type.PING: message = { type: 'ping', requestId }; break
    case DhtFrame.Type.PONG: message = { type: 'pong', requestId }; break
    case DhtFrame.Type.FIND_NODE: message = { type: 'find-node', requestId, target: keyIn('find-node', f.target) }; break
    case DhtFrame.Type.FIND_NODE_REPLY: message = { type: 'find-node-reply', requestId, closer: f.closer.map(contactIn) }; break
    case DhtFrame.Type.GET_PROVIDERS: message = { type: 'get-providers', requestId, key: keyIn('get-providers', f.key) }; break
    case DhtFrame.Type.GET_PROVIDERS_REPLY: message = { type: 'get-providers-reply', requestId, providers: f.providers.map(contactIn), closer: f.closer.map(contactIn) }; break
    case DhtFrame.Type.ADD_PROVIDER: message = { type: 'add-provider', requestId, key: keyIn('add-provider', f.key) }; break
    case DhtFrame.Type.ATTACH: message = { type: 'attach', requestId }; break
    case DhtFrame.Type.ATTACH_OK: message = { type: 'attach-ok', requestId, keepAliveIntervalMs: f.keepAliveIntervalMs, leaves: f.leaves, maxLeaves: f.maxLeaves }; break
    case DhtFrame.Type.ATTACH_BUSY: message = { type: 'attach-busy', requestId, alternatives: f.alternatives.map(contactIn) }; break
    case DhtFrame.Type.REGISTER: message = f.indexOnly ? { type: 'register', requestId, keys: f.keys.map(k => keyIn('register', k)), indexOnly: true } : { type: 'register', requestId, keys: f.keys.map(k => keyIn('register', k)) }; break
    case DhtFrame.Type.UNREGISTER: message = { type: 'unregister', requestId, keys: f.keys.map(k => keyIn('unregister', k)) }; break
    case DhtFrame.Type.QUERY: message = f.localOnly ? { type: 'query', requestId, key: keyIn('query', f.key), localOnly: true } : { type: 'query', requestId, key: keyIn('query', f.key) }; break
    case DhtFrame.Type.QUERY_REPLY: message = { type: 'query-reply', requestId, providers: f.providers.map(contactIn) }; break
    case DhtFrame.Type.KEEP_ALIVE: message = { type: 'keep-alive', requestId }; break
    case DhtFrame.Type.ACK: message = { type: 'ack', requestId }; break
    case DhtFrame.Type.ERROR: {
      const code = ERROR_IN.get(f.errorCode)
      if (code == null) throw new DhtFrameError('unknown error code')
      message = { type: 'error', requestId, code }
      break
    }
    default: throw new DhtFrameError(`unknown dht frame type ${String(f.type)}`)
  }
  try {
    checkDhtMessage(message)
  } catch (err) {
    throw new DhtFrameError((err as Error).message)
  }
  return { message, senderRole, senderAddrs: checkAddrs(f.senderAddrs) }
}
