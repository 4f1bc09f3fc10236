/**
 * The swarm peer's upload accounting: per item, the requesters connected
 * and the piece bytes uploaded (by transit class), and counts of what the
 * xfer server did (metrics). It wraps the gate that decides
 * (SwarmUploadGate, over the core upload policy) and decides nothing.
 */
import type { SwarmUploadGate } from '../net/upload-gate.js'
import type { RequesterInfo, UploadGate, UploadTicket } from '../net/xfer-server.js'
import type { XferMessage } from '../core/messages/xfer-messages.js'
import { classifyLocality, emptyLocalityBytes, type LocalityPlace } from '../core/proximity/locality.js'

/** What a swarm peer's xfer server did since start (metrics). */
export interface ServingCounts {
  /** Requester streams admitted (one per requester and item). */
  streamsAdmitted: number
  /** Pieces sent (or being sent). */
  piecesServed: number
  /** Chokes and spread rejects that named other holders ("busy, try these peers"). */
  answersWithAlternatives: number
  /** Holders named in them, in all. */
  alternativesNamed: number
}

/** Per-item upload accounting around the real gate (the policy stays in SwarmUploadGate). */
export class AccountingGate implements UploadGate {
  readonly requesters = new Map<string, number>()
  readonly uploaded = new Map<string, number>()
  readonly uploadedByLocality = emptyLocalityBytes()
  readonly counts: ServingCounts = { streamsAdmitted: 0, piecesServed: 0, answersWithAlternatives: 0, alternativesNamed: 0 }
  /** `placeOf` places a requester once per stream; `self` is this peer's place now (it may learn its address later). */
  constructor (private readonly inner: SwarmUploadGate, private readonly placeOf: (who: RequesterInfo) => LocalityPlace, private readonly self: () => LocalityPlace) {}
  admit (who: RequesterInfo, push: (msg: XferMessage) => void): UploadTicket {
    const id = who.contentId
    const place = this.placeOf(who)
    const counts = this.counts
    counts.streamsAdmitted++
    this.requesters.set(id, (this.requesters.get(id) ?? 0) + 1)
    const ticket = this.inner.admit(who, push)
    let released = false
    return {
      get choked () { return ticket.choked },
      admitPiece: ticket.admitPiece,
      // The xfer server asks once per choke or spread reject it sends.
      alternatives: ticket.alternatives == null
        ? undefined
        : () => {
            const named = ticket.alternatives?.() ?? []
            if (named.length > 0) { counts.answersWithAlternatives++; counts.alternativesNamed += named.length }
            return named
          },
      stalled: ticket.stalled,
      unqueued: ticket.unqueued,
      sent: ticket.sent,
      requested: ticket.requested,
      pace: async (bytes, signal) => {
        this.uploaded.set(id, (this.uploaded.get(id) ?? 0) + bytes)
        this.uploadedByLocality[classifyLocality(this.self(), place)] += bytes
        counts.piecesServed++
        await ticket.pace(bytes, signal)
      },
      release: () => {
        if (!released) {
          released = true
          const n = (this.requesters.get(id) ?? 1) - 1
          if (n <= 0) this.requesters.delete(id); else this.requesters.set(id, n)
        }
        ticket.release()
      }
    }
  }
}
