/**
 * What simulated nodes send each other: the DHT/tier vocabulary of
 * src/core/messages unchanged, plus the piece-exchange messages of the
 * real xfer protocol the model needs (request, piece, reject, choke,
 * unchoke, a busy origin's decline, and the end of a requester's stream),
 * keyed by catalog item instead of a content id; pieces carry no bytes.
 */
import { estimateDhtMessageBytes, type DhtMessage } from '../../src/core/messages/dht-messages.js'
import type { Bitfield } from '../../src/core/swarm/bitfield.js'
import type { Contact } from '../../src/core/dht/contact.js'

/** Asks for piece `index` of catalog item `itemRank` (xfer `request`). */
export interface PieceRequestMessage { type: 'piece-request', itemRank: number, index: number }
/** Piece `index` of `itemRank` arrived (xfer `piece`; its bytes are the transfer's). */
export interface PieceMessage { type: 'piece', itemRank: number, index: number }
/** The sender will not serve it: does not hold the item, or every upload slot and queue place is taken (xfer `reject`). */
export interface PieceRejectMessage { type: 'piece-reject', itemRank: number, index: number }

/** The uploader's upload policy choked / unchoked this requester for `itemRank` (xfer `choke` / `unchoke`); a busy origin's choke may name other holders ("busy, try these peers"). */
export interface ChokeMessage { type: 'choke' | 'unchoke', itemRank: number, alternatives?: Contact[] }
/** A busy origin declined piece `index` for now: ask peers (xfer `reject` with the spread reason), possibly naming some. */
export interface PieceDeclineMessage { type: 'piece-decline', itemRank: number, index: number, alternatives?: Contact[] }
/** The requester is done with `itemRank` at this uploader (its xfer stream closed): its upload slot is free. */
export interface LeaveMessage { type: 'leave', itemRank: number }

/** Opens a requester's stream for `itemRank` at an uploader (xfer handshake). */
export interface HelloMessage { type: 'hello', itemRank: number }
/** The uploader's handshake: it holds the item (`have`: the pieces it holds, undefined for all), and whether the requester starts choked; or `found: false`. */
export interface HandshakeMessage { type: 'handshake', itemRank: number, found: boolean, have: Bitfield | undefined, choked: boolean }
/** The uploader now holds piece `index` (xfer `have`). */
export interface HaveMessage { type: 'have', itemRank: number, index: number }

/** A piece-exchange message. */
export type XferSimMessage = PieceRequestMessage | PieceMessage | PieceRejectMessage | ChokeMessage | PieceDeclineMessage | LeaveMessage | HelloMessage | HandshakeMessage | HaveMessage

/** Any message between simulated nodes. */
export type SimMessage = DhtMessage | XferSimMessage

/** One named alternative on the wire: a peer id and one address (xfer `PeerAlternative`). */
const ALTERNATIVE_BYTES = 40

/** Size on the wire, bytes: the core's upper estimate (checkDhtMessage's, unchecked: the core built it) or a small fixed frame. */
export function simMessageBytes (m: SimMessage): number {
  if (m.type === 'handshake') return 24 + (m.have?.bytes.length ?? 0)
  if ((m.type === 'choke' || m.type === 'piece-decline') && m.alternatives != null) return 24 + ALTERNATIVE_BYTES * m.alternatives.length
  if (isPieceMessage(m)) return 24
  return estimateDhtMessageBytes(m)
}

/** True for the piece-exchange messages. */
export function isPieceMessage (m: SimMessage): m is XferSimMessage {
  return XFER_TYPES.has(m.type)
}

const XFER_TYPES = new Set<string>(['piece-request', 'piece', 'piece-reject', 'choke', 'unchoke', 'piece-decline', 'leave', 'hello', 'handshake', 'have'])
