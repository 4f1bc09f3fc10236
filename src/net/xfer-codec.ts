/**
 * Encoding of xfer and manifest messages (protobuf, src/net/xfer.proto,
 * generated with `npx protons src/net/xfer.proto` then renamed to
 * xfer-pb.ts) and the hard size limit of every frame.
 */
import { XferFrame, ManifestRequestFrame, ManifestResponseFrame } from './xfer-pb.js'
import { MAX_PIECE_SIZE_BYTES } from '../core/content/pieces.js'
import { MAX_MANIFEST_BYTES } from '../core/content/manifest.js'
import { parseContentId } from '../core/content/content-id.js'
import type { ManifestRequest, ManifestResponse, XferMessage } from '../core/messages/xfer-messages.js'

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

/** A frame that does not decode, or decodes to a message that breaks the protocol. */
export class MalformedFrameError extends Error {
  override name = 'MalformedFrameError'
  readonly code = 'ERR_MALFORMED_FRAME'
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
    case 'handshake': return XferFrame.encode({ type: XferFrame.Type.HANDSHAKE, contentId: msg.contentId, bitfield: msg.bitfield as Uint8Array<ArrayBuffer> })
    case 'have': return XferFrame.encode({ type: XferFrame.Type.HAVE, index: msg.index })
    case 'request': return XferFrame.encode({ type: XferFrame.Type.REQUEST, index: msg.index })
    case 'piece': return XferFrame.encode({ type: XferFrame.Type.PIECE, index: msg.index, data: msg.data as Uint8Array<ArrayBuffer> })
    case 'cancel': return XferFrame.encode({ type: XferFrame.Type.CANCEL, index: msg.index })
    case 'choke': return XferFrame.encode({ type: XferFrame.Type.CHOKE })
    case 'unchoke': return XferFrame.encode({ type: XferFrame.Type.UNCHOKE })
    case 'reject': return XferFrame.encode({ type: XferFrame.Type.REJECT, index: msg.index, reason: msg.reason.slice(0, MAX_REASON_CHARS) })
    case 'not-found': return XferFrame.encode({ type: XferFrame.Type.NOT_FOUND, contentId: msg.contentId })
  }
}

/** Decodes one xfer frame; throws MalformedFrameError for garbage or an unknown type. */
export function decodeXferMessage (bytes: Uint8Array): XferMessage {
  const f = decodeOrThrow('xfer', () => XferFrame.decode(bytes))
  switch (f.type) {
    case XferFrame.Type.HANDSHAKE: return { type: 'handshake', contentId: decodeOrThrow('xfer', () => parseContentId(f.contentId)), bitfield: f.bitfield }
    case XferFrame.Type.HAVE: return { type: 'have', index: f.index }
    case XferFrame.Type.REQUEST: return { type: 'request', index: f.index }
    case XferFrame.Type.PIECE: return { type: 'piece', index: f.index, data: f.data }
    case XferFrame.Type.CANCEL: return { type: 'cancel', index: f.index }
    case XferFrame.Type.CHOKE: return { type: 'choke' }
    case XferFrame.Type.UNCHOKE: return { type: 'unchoke' }
    case XferFrame.Type.REJECT: return { type: 'reject', index: f.index, reason: f.reason.slice(0, MAX_REASON_CHARS) }
    case XferFrame.Type.NOT_FOUND: return { type: 'not-found', contentId: f.contentId }
    default: throw new MalformedFrameError(`unknown xfer frame type ${String(f.type)}`)
  }
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
