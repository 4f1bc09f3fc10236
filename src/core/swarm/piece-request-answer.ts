/**
 * How an uploader answers one piece request: the order of checks both
 * shells follow (the libp2p xfer server and the simulator's piece
 * exchange), each writing the answer in its own messages.
 *
 * Rules, first match wins:
 * 1. `choked`: the request crossed our choke (the requester hears the
 *    choke; the libp2p server drops the request as BitTorrent does, the
 *    simulator, whose uploader keeps no queue, declines it).
 * 2. `not-held`: we do not hold the piece (rejected: ask someone else).
 * 3. `queue-full`: the stream's queue is full (a shell that queues).
 * 4. `spread-declined`: the upload policy's spread rule declines the piece
 *    for now (a busy origin: "try these peers").
 * 5. `over-quota`: the requester's peer or network has too many requests
 *    queued (a shell that keeps quotas).
 * 6. `serve`.
 * The spread rule and the quota are asked only when every rule before
 * them passed: asking records the piece or takes a queue place.
 */

/** What to do with one piece request (see the rules). */
export type PieceRequestAnswer = 'choked' | 'not-held' | 'queue-full' | 'spread-declined' | 'over-quota' | 'serve'

/** What the shell knows of one piece request. */
export interface PieceRequest {
  /** The requester is choked on this stream. */
  choked: boolean
  /** We hold the piece (verified). */
  held: boolean
  /** The stream's queue of requests is full. Default false (no queue). */
  queueFull?: boolean
  /** The upload policy's spread rule: true admits the piece (and records it). Default: admits. */
  admitPiece?: () => boolean
  /** Takes a place from the requester's quota: false when it has none left. Default: no quota. */
  takeQuota?: () => boolean
}

/** The answer to one piece request, by the rules above. */
export function answerPieceRequest (r: PieceRequest): PieceRequestAnswer {
  if (r.choked) return 'choked'
  if (!r.held) return 'not-held'
  if (r.queueFull === true) return 'queue-full'
  if (r.admitPiece?.() === false) return 'spread-declined'
  if (r.takeQuota?.() === false) return 'over-quota'
  return 'serve'
}
