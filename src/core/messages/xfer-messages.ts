/**
 * The vocabulary of piece exchange (`/swarmcdn/xfer/1.0.0`) and manifest
 * fetch (`/swarmcdn/manifest/1.0.0`) as plain typed objects. Encoding,
 * framing and size limits live in src/net; the core and the simulator use
 * these objects directly.
 */
import type { ContentId } from '../content/content-id.js'

/**
 * Opens an xfer stream for one item: what the sender already holds. Sent
 * first by both sides. `origin`: the serving side is a publisher's origin
 * seeder (absent means no, as from older peers).
 */
export interface HandshakeMessage { type: 'handshake', contentId: ContentId, bitfield: Uint8Array, origin?: boolean }
/** The sender now holds piece `index`. */
export interface HaveMessage { type: 'have', index: number }
/** Asks for piece `index`. */
export interface RequestMessage { type: 'request', index: number }
/** The bytes of piece `index` (unverified until the receiver checks them). */
export interface PieceMessage { type: 'piece', index: number, data: Uint8Array }
/** Withdraws a request for piece `index`. */
export interface CancelMessage { type: 'cancel', index: number }
/** Another holder of the item, named by a busy origin ("busy, try these peers"). */
export interface PeerAlternative {
  /** libp2p peer id. */
  peerId: string
  /** Dialable multiaddrs without /p2p/. */
  multiaddrs: string[]
}

/** The sender will not serve requests until it unchokes; a busy origin may name other holders. */
export interface ChokeMessage { type: 'choke', alternatives?: PeerAlternative[] }
/** The sender serves requests again. */
export interface UnchokeMessage { type: 'unchoke' }
/** The sender will not serve piece `index` (does not hold it, or is overloaded). */
export interface RejectMessage { type: 'reject', index: number, reason: string, alternatives?: PeerAlternative[] }
/** The sender does not hold the item named in the handshake; the stream ends. */
export interface NotFoundMessage { type: 'not-found', contentId: ContentId }

/** Any message on an xfer stream. */
export type XferMessage =
  | HandshakeMessage | HaveMessage | RequestMessage | PieceMessage | CancelMessage
  | ChokeMessage | UnchokeMessage | RejectMessage | NotFoundMessage

/** Asks for the signed manifest of `contentId`. */
export interface ManifestRequest { contentId: ContentId }
/** The signed manifest bytes, or `found: false`. */
export type ManifestResponse = { found: true, signedManifest: Uint8Array } | { found: false }
