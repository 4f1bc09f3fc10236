/**
 * Encoding of xfer and manifest messages (protobuf, src/net/xfer.proto,
 * generated with `npx protons src/net/xfer.proto` then renamed to
 * xfer-pb.ts) and the hard size limit of every frame.
 */
import { MAX_NAMED_ALTERNATIVES } from '../core/swarm/busy-alternatives.js'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { XferFrame, ManifestRequestFrame, ManifestResponseFrame } from './xfer-pb.js'
import { MAX_PIECE_SIZE_BYTES } from '../core/content/pieces.js'
import { MAX_MANIFEST_BYTES } from '../core/content/manifest.js'
import { parseContentId } from '../core/content/content-id.js'
import type { ManifestRequest, ManifestResponse, PeerAlternative, XferMessage } from '../core/messages/xfer-messages.js'
import { Uint8ArrayList } from 'uint8arraylist'

/** Bytes a piece frame adds around the piece data (type, index, field headers), with room to spare. */
export const XFER_FRAME_OVERHEAD_BYTES = 1024
/** Largest xfer frame anyone may send: a maximum-size piece plus overhead. */
export const MAX_XFER_FRAME_BYTES = MAX_PIECE_SIZE_BYTES + XFER_FRAME_OVERHEAD_BYTES
/** Largest control frame (anything but a piece): a handshake with a bitfield for 256 Ki pieces (32 KiB) plus overhead. */
export const MAX_CONTROL_FRAME_BYTES = 64 * 1024
/** Largest manifest request frame. */
export const MAX_MANIFEST_REQUEST_BYTES = 1024
/** Largest manifest response frame. */
export const MAX_MANIFEST_RESPONSE_BYTES = MAX_MANIFEST_BYTES + 64
/** Longest reject reason kept, in characters. */
const MAX_REASON_CHARS = 200
/** Most alternative providers a choke or reject may name (a busy origin's "try these peers"; the core names at most this many). */
export const MAX_XFER_ALTERNATIVES = MAX_NAMED_ALTERNATIVES
/** Most multiaddrs per alternative provider. */
export const MAX_ALTERNATIVE_ADDRS = 4
/** Longest peer id or multiaddr text accepted in an alternative, characters. */
const MAX_ALTERNATIVE_TEXT_CHARS = 256
/** Protons decode limits: repeated fields are capped while parsing, before anything is allocated for them. */
const XFER_DECODE_LIMITS = { alternatives: MAX_XFER_ALTERNATIVES, alternatives$: { multiaddrs: MAX_ALTERNATIVE_ADDRS } }

/** A frame that does not decode, or decodes to a message that breaks the protocol. */
export class MalformedFrameError extends Error {
  override name = 'MalformedFrameError'
  readonly code = 'ERR_MALFORMED_FRAME'
  /** Always the sender's fault: counts against it (net/offender-guard.ts). */
  readonly peerFault = true
}

function decodeOrThrow<T> (what: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw new MalformedFrameError(`malformed ${what} frame: ${(err as Error).message}`)
  }
}

/** Encodes one xfer message. */
export function encodeXferMessage (msg: XferMessage): Uint8Array {
  switch (msg.type) {
    case 'handshake': return XferFrame.encode({ type: XferFrame.Type.HANDSHAKE, contentId: msg.contentId, bitfield: msg.bitfield as Uint8Array<ArrayBuffer>, origin: msg.origin === true })
    case 'have': return XferFrame.encode({ type: XferFrame.Type.HAVE, index: msg.index })
    case 'request': return XferFrame.encode({ type: XferFrame.Type.REQUEST, index: msg.index })
    case 'piece': return XferFrame.encode({ type: XferFrame.Type.PIECE, index: msg.index, data: msg.data as Uint8Array<ArrayBuffer> })
    case 'cancel': return XferFrame.encode({ type: XferFrame.Type.CANCEL, index: msg.index })
    case 'choke': return XferFrame.encode({ type: XferFrame.Type.CHOKE, alternatives: alternativesOut(msg.alternatives) })
    case 'unchoke': return XferFrame.encode({ type: XferFrame.Type.UNCHOKE })
    case 'reject': return XferFrame.encode({ type: XferFrame.Type.REJECT, index: msg.index, reason: msg.reason.slice(0, MAX_REASON_CHARS), alternatives: alternativesOut(msg.alternatives) })
    case 'not-found': return XferFrame.encode({ type: XferFrame.Type.NOT_FOUND, contentId: msg.contentId })
  }
}

/** Decodes one xfer frame; throws MalformedFrameError for garbage or an unknown type. */
export function decodeXferMessage (bytes: Uint8Array): XferMessage {
  const f = decodeOrThrow('xfer', () => XferFrame.decode(bytes, { limits: XFER_DECODE_LIMITS }))
  if (f.alternatives.length > 0 && f.type !== XferFrame.Type.CHOKE && f.type !== XferFrame.Type.REJECT) throw new MalformedFrameError(`alternatives on a ${String(f.type)} frame`)
  if (f.origin && f.type !== XferFrame.Type.HANDSHAKE) throw new MalformedFrameError(`origin flag on a ${String(f.type)} frame`)
  switch (f.type) {
    case XferFrame.Type.HANDSHAKE: {
      const handshake: XferMessage = { type: 'handshake', contentId: decodeOrThrow('xfer', () => parseContentId(f.contentId)), bitfield: f.bitfield }
      if (f.origin) handshake.origin = true
      return handshake
    }
    case XferFrame.Type.HAVE: return { type: 'have', index: f.index }
    case XferFrame.Type.REQUEST: return { type: 'request', index: f.index }
    case XferFrame.Type.PIECE: return { type: 'piece', index: f.index, data: f.data }
    case XferFrame.Type.CANCEL: return { type: 'cancel', index: f.index }
    case XferFrame.Type.CHOKE: return f.alternatives.length > 0 ? { type: 'choke', alternatives: alternativesIn(f.alternatives) } : { type: 'choke' }
    case XferFrame.Type.UNCHOKE: return { type: 'unchoke' }
    case XferFrame.Type.REJECT: {
      const reject: XferMessage = { type: 'reject', index: f.index, reason: f.reason.slice(0, MAX_REASON_CHARS) }
      if (f.alternatives.length > 0) reject.alternatives = alternativesIn(f.alternatives)
      return reject
    }
    case XferFrame.Type.NOT_FOUND: return { type: 'not-found', contentId: f.contentId }
    default: throw new MalformedFrameError(`unknown xfer frame type ${String(f.type)}`)
  }
}

/** Our alternatives for the wire: capped (a caller's longer list is cut, not an error), addresses without /p2p/ suffix kept as given. */
function alternativesOut (alts: PeerAlternative[] | undefined): PeerAlternative[] {
  if (alts == null) return []
  return alts.slice(0, MAX_XFER_ALTERNATIVES).map(a => ({ peerId: a.peerId, multiaddrs: a.multiaddrs.slice(0, MAX_ALTERNATIVE_ADDRS) }))
}

/** Strict check of received alternatives: every peer id must parse, every address must be a multiaddr, no empty address list. */
function alternativesIn (alts: PeerAlternative[]): PeerAlternative[] {
  return alts.map(a => {
    if (a.peerId.length === 0 || a.peerId.length > MAX_ALTERNATIVE_TEXT_CHARS) throw new MalformedFrameError('alternative: bad peer id length')
    decodeOrThrow('xfer', () => peerIdFromString(a.peerId))
    if (a.multiaddrs.length === 0) throw new MalformedFrameError('alternative without addresses')
    for (const addr of a.multiaddrs) {
      if (addr.length > MAX_ALTERNATIVE_TEXT_CHARS) throw new MalformedFrameError('alternative: address too long')
      decodeOrThrow('xfer', () => multiaddr(addr))
    }
    return { peerId: a.peerId, multiaddrs: [...a.multiaddrs] }
  })
}

/** A received piece whose bytes are still the chunks they arrived in. */
export interface ReceivedPieceMessage { type: 'piece', index: number, data: Uint8ArrayList }
/** A received xfer message: as XferMessage, except that a piece's data is a chunk list. */
export type ReceivedXferMessage = Exclude<XferMessage, { type: 'piece' }> | ReceivedPieceMessage

// Protobuf keys of XferFrame's fields (field number << 3 | wire type), see xfer.proto.
const KEY_TYPE = (1 << 3) | 0
const KEY_INDEX = (4 << 3) | 0
const KEY_DATA = (5 << 3) | 2
const WIRE_VARINT = 0
/** Wire value of XferFrame.Type.PIECE (xfer.proto). */
const TYPE_PIECE = 3
const WIRE_LEN = 2
/** Longest piece frame header: type (2) + index key and varint (6) + data key and length varint (6). */
const MAX_PIECE_HEADER_BYTES = 14

/**
 * Encodes a piece frame as [header, data] without copying the data into
 * the frame (decodes like encodeXferMessage's piece frame; the index is
 * written even when 0).
 */
export function encodePieceFrame (index: number, data: Uint8Array): Uint8ArrayList {
  const header = new Uint8Array(MAX_PIECE_HEADER_BYTES)
  let at = 0
  header[at++] = KEY_TYPE
  header[at++] = TYPE_PIECE
  header[at++] = KEY_INDEX
  at = writeVarint(header, at, index)
  header[at++] = KEY_DATA
  at = writeVarint(header, at, data.byteLength)
  return new Uint8ArrayList(header.subarray(0, at), data)
}

/**
 * Decodes one xfer frame held as a chunk list. A piece frame's data stays
 * a sublist of the frame's chunks (no copy); every other frame, and any
 * frame this fast path does not fully understand, goes through the
 * generated decoder, so both paths accept and reject the same frames.
 */
export function decodeXferFrame (frame: Uint8ArrayList): ReceivedXferMessage {
  const piece = scanPieceFrame(frame)
  if (piece != null) return piece
  const msg = decodeXferMessage(frame.subarray())
  return msg.type === 'piece' ? { type: 'piece', index: msg.index, data: new Uint8ArrayList(msg.data) } : msg
}

/** The piece in `frame` when it is a piece frame made only of type, index and data fields; otherwise undefined. */
function scanPieceFrame (frame: Uint8ArrayList): ReceivedPieceMessage | undefined {
  // Every field but data is a few bytes: copy a short prefix to parse keys
  // and varints; the data field is skipped over by its length.
  const end = frame.byteLength
  let type = 0
  let index = 0
  let dataStart = -1
  let dataEnd = -1
  let pos = 0
  while (pos < end) {
    const head = frame.subarray(pos, Math.min(end, pos + 11))
    const key = readVarint(head, 0)
    if (key == null) return undefined
    let at = key.next
    const wire = key.value & 7
    if (wire === WIRE_VARINT) {
      const v = readVarint(head, at)
      if (v == null) return undefined
      if (key.value === KEY_TYPE) type = v.value
      else if (key.value === KEY_INDEX) index = v.value >>> 0
      else return undefined
      pos += v.next
    } else if (wire === WIRE_LEN && key.value === KEY_DATA) {
      const len = readVarint(head, at)
      if (len == null) return undefined
      at = len.next
      if (pos + at + len.value > end) return undefined
      dataStart = pos + at
      dataEnd = dataStart + len.value
      pos = dataEnd
    } else {
      return undefined
    }
  }
  if (type !== TYPE_PIECE || dataStart < 0) return undefined
  return { type: 'piece', index, data: frame.sublist(dataStart, dataEnd) }
}

/** Writes `value` (a non-negative safe integer) as a varint at `at`; returns the next position. */
function writeVarint (buf: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    buf[at++] = (value % 128) | 0x80
    value = Math.floor(value / 128)
  }
  buf[at++] = value
  return at
}

/** A varint of at most 8 bytes (enough for any frame length) at `at`, or undefined. */
function readVarint (buf: Uint8Array, at: number): { value: number, next: number } | undefined {
  let value = 0
  let mul = 1
  for (let i = at; i < buf.length && i < at + 8; i++) {
    const b = buf[i]
    value += (b & 0x7f) * mul
    mul *= 128
    if ((b & 0x80) === 0) return { value, next: i + 1 }
  }
  return undefined
}

/** Encodes a manifest request. */
export function encodeManifestRequest (req: ManifestRequest): Uint8Array {
  return ManifestRequestFrame.encode({ contentId: req.contentId })
}

/** Decodes a manifest request; throws MalformedFrameError unless it names a valid content id. */
export function decodeManifestRequest (bytes: Uint8Array): ManifestRequest {
  const f = decodeOrThrow('manifest request', () => ManifestRequestFrame.decode(bytes))
  return { contentId: decodeOrThrow('manifest request', () => parseContentId(f.contentId)) }
}

/** Encodes a manifest response. */
export function encodeManifestResponse (res: ManifestResponse): Uint8Array {
  return res.found
    ? ManifestResponseFrame.encode({ found: true, signedManifest: res.signedManifest as Uint8Array<ArrayBuffer> })
    : ManifestResponseFrame.encode({ found: false })
}

/** Decodes a manifest response. */
export function decodeManifestResponse (bytes: Uint8Array): ManifestResponse {
  const f = decodeOrThrow('manifest response', () => ManifestResponseFrame.decode(bytes))
  return f.found ? { found: true, signedManifest: f.signedManifest } : { found: false }
}
