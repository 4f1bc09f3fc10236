/**
 * What simulated nodes send each other: the DHT/tier vocabulary of
 * src/core/messages unchanged, plus the three piece-exchange messages the
 * simulator needs (the real xfer protocol's request / piece / reject,
 * keyed by catalog item instead of a content id; pieces carry no bytes).
 */
import { estimateDhtMessageBytes, type DhtMessage } from '../../src/core/messages/dht-messages.js'

/** Asks for piece `index` of catalog item `itemRank` (xfer `request`). */
export interface PieceRequestMessage { type: 'piece-request', itemRank: number, index: number }
/** Piece `index` of `itemRank` arrived (xfer `piece`; its bytes are the transfer's). */
export interface PieceMessage { type: 'piece', itemRank: number, index: number }
/** The sender will not serve it: does not hold the item, or every upload slot and queue place is taken (xfer `reject`). */
export interface PieceRejectMessage { type: 'piece-reject', itemRank: number, index: number }

/** Any message between simulated nodes. */
export type SimMessage = DhtMessage | PieceRequestMessage | PieceMessage | PieceRejectMessage

/** Size on the wire, bytes: the core's upper estimate (checkDhtMessage's, unchecked: the core built it) or a small fixed frame. */
export function simMessageBytes (m: SimMessage): number {
  if (m.type === 'piece-request' || m.type === 'piece' || m.type === 'piece-reject') return 24
  return estimateDhtMessageBytes(m)
}

/** True for the piece-exchange messages. */
export function isPieceMessage (m: SimMessage): m is PieceRequestMessage | PieceMessage | PieceRejectMessage {
  return m.type === 'piece-request' || m.type === 'piece' || m.type === 'piece-reject'
}
