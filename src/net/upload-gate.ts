/**
 * The libp2p shell of the core upload policy (core/swarm/upload-policy.ts:
 * upload slots, busy mode, piece spreading) for the xfer server: it admits
 * each stream's requester, pushes the policy's choke/unchoke changes to
 * the streams, runs the policy's one timer, and paces sent bytes with the
 * pure TokenBucket (the total upload rate limit). With `alternatives`, a
 * busy item's chokes and spread rejects name other holders ("busy, try
 * these peers"); `offerAlternatives` re-sends the choke once the owner
 * has found holders it did not know when the choke went out. The xfer
 * server tells the policy what each stream does (asked, sent, reads,
 * stalled, unqueued); the decisions, stalled and idle requesters
 * included, are the policy's, and the simulator drives the same object.
 */
import type { PeerAlternative, XferMessage } from '../core/messages/xfer-messages.js'
import { TokenBucket } from '../core/swarm/token-bucket.js'
import { AsUploadLimits } from '../core/swarm/as-upload-limits.js'
import { UploadPolicy, type PolicyRequester, type UploadPolicyInit } from '../core/swarm/upload-policy.js'
import type { RequesterInfo, UploadGate, UploadTicket } from './xfer-server.js'

/** Options for SwarmUploadGate: the policy's (UploadPolicyInit, whose `rank`/`isNear` take RequesterInfo here) plus the rate limit. */
export interface SwarmUploadGateInit extends Omit<UploadPolicyInit, 'rank' | 'isNear'> {
  /** Total upload rate over all requesters, bytes/s. Default: unlimited. */
  uploadBytesPerSec?: number
  /** Orders requesters nearest first (rankPeers over their addresses). Default: arrival order. */
  rank?: (requesters: RequesterInfo[]) => RequesterInfo[]
  /** True for a requester in our near class (same AS by rankPeers' rule 1), for `nearFirst`. Default: nobody is near. */
  isNear?: (requester: RequesterInfo) => boolean
  /** Other holders of the item to name to `requester`, nearest to it first, given whether the item is `busy` (the core's BusyAlternatives names none otherwise; synchronous: answer from what is known now). Default: none. */
  alternatives?: (requester: RequesterInfo, busy: boolean) => PeerAlternative[]
  /** Upload rate caps per requester AS, bytes/s (`--as-upload-limit`; core/swarm/as-upload-limits.ts), on top of `uploadBytesPerSec`. Default: none. */
  asUploadLimits?: Readonly<Record<number, number>>
  /** The requester's AS number (0: unknown), for `asUploadLimits`. Default: unknown. */
  asnOf?: (requester: RequesterInfo) => number
}

interface Stream { who: RequesterInfo, push: (msg: XferMessage) => void }
type Who = PolicyRequester & { info: RequesterInfo }

/** The upload policy of one node over xfer streams (see the file's comment). */
export class SwarmUploadGate implements UploadGate {
  private readonly policy: UploadPolicy
  private readonly bucket: TokenBucket | undefined
  private readonly asLimits: AsUploadLimits | undefined
  private readonly streams = new Map<string, Stream>()
  private timer: ReturnType<typeof setTimeout> | undefined
  private nextKey = 0
  private stopped = false
  /** Piece bytes that passed the gate (sent or about to be). */
  bytesUploaded = 0

  /** A gate with the given policy. */
  constructor (private readonly init: SwarmUploadGateInit = {}) {
    const { rank, isNear } = init
    this.policy = new UploadPolicy({
      ...init,
      rank: rank == null ? undefined : whos => { const back = new Map(whos.map(w => [(w as Who).info, w])); return rank(whos.map(w => (w as Who).info)).map(info => back.get(info) as Who) },
      isNear: isNear == null ? undefined : w => isNear((w as Who).info)
    })
    if (init.uploadBytesPerSec != null) this.bucket = new TokenBucket(init.uploadBytesPerSec, Math.max(init.uploadBytesPerSec / 4, 64 * 1024))
    if (init.asUploadLimits != null && Object.keys(init.asUploadLimits).length > 0) this.asLimits = new AsUploadLimits(init.asUploadLimits)
  }

  /** Pieces declined by the spread rule (tests and metrics). */
  get piecesDeclined (): number { return this.policy.piecesDeclined }
  /** Requesters whose stream stalled so far (tests and metrics). */
  get stallsSeen (): number { return this.policy.stallsSeen }
  /** Requester streams admitted now. */
  get requesters (): number { return this.policy.size }
  /** Times an item went busy so far (tests and metrics). */
  get busyTimes (): number { return this.policy.busyTimes }
  /** Chokes sent so far (tests and metrics). */
  get chokesSent (): number { return this.policy.chokes }

  /** Records `bytes` received from `peerId` (our download from it): its reciprocation. */
  recordReceived (peerId: string, bytes: number): void { this.policy.recordReceived(Date.now(), peerId, bytes) }

  /** Requesters currently unchoked. */
  unchokedCount (): number { return this.policy.unchokedCount() }

  /** Share of the upload slots in use, 0-1 (UploadPolicy.slotUtilization). */
  slotUtilization (): number { return this.policy.slotUtilization() }

  admit (who: RequesterInfo, push: (msg: XferMessage) => void): UploadTicket {
    const key = `${who.peerId}#${this.nextKey++}`
    const item = who.contentId.toString()
    this.streams.set(key, { who, push })
    const policyWho: Who = { item, peerId: who.peerId, pieceCount: who.pieceCount, remoteAddr: who.remoteAddr, info: who }
    this.apply(this.policy.admit(Date.now(), key, policyWho))
    const policy = this.policy
    // The requester's AS is placed once per stream, only when some AS is capped.
    const asn = this.asLimits == null ? 0 : (this.init.asnOf?.(who) ?? 0)
    const pace = async (bytes: number, signal?: AbortSignal): Promise<void> => {
      this.bytesUploaded += bytes
      if (this.bucket == null && this.asLimits == null) return
      const now = Date.now()
      const waitMs = Math.max(this.bucket?.take(now, bytes) ?? 0, this.asLimits?.take(now, asn, bytes) ?? 0)
      if (waitMs > 0) await sleep(waitMs, signal)
    }
    return {
      get choked () { return policy.isChoked(key) },
      pace,
      admitPiece: (index: number): boolean => this.policy.admitPiece(Date.now(), key, index),
      alternatives: (): PeerAlternative[] => this.init.alternatives?.(who, this.policy.isBusy(item)) ?? [],
      unqueued: (indices: readonly number[]) => { this.policy.unqueued(key, indices) },
      requested: () => { this.apply(this.policy.requested(Date.now(), key)) },
      sent: (index: number) => { this.policy.sent(Date.now(), key, index) },
      stalled: () => { this.apply(this.policy.stalled(Date.now(), key)) },
      release: () => {
        if (!this.streams.delete(key)) return
        this.apply(this.policy.release(Date.now(), key))
      }
    }
  }

  /** Re-sends choke (now naming alternatives) to every choked requester of `contentId` when the item is busy: holders were found after the first choke. */
  offerAlternatives (contentId: string): number {
    if (this.stopped || this.init.alternatives == null) return 0
    const keys = this.policy.chokedOf(contentId)
    for (const key of keys) this.streams.get(key)?.push({ type: 'choke' })
    return keys.length
  }

  /** Stops the rechoke timer. */
  stop (): void {
    this.stopped = true
    if (this.timer != null) clearTimeout(this.timer)
  }

  /** Pushes the policy's changes to their streams and re-arms the one timer. */
  private apply (changes: Array<{ key: string, choked: boolean }>): void {
    if (this.stopped) return
    for (const c of changes) this.streams.get(c.key)?.push({ type: c.choked ? 'choke' : 'unchoke' })
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = undefined
    const dueMs = this.policy.nextDeadlineMs(Date.now())
    if (dueMs === undefined) return
    this.timer = setTimeout(() => { this.timer = undefined; this.apply(this.policy.timer(Date.now())) }, Math.max(0, dueMs - Date.now()))
    this.timer.unref?.()
  }
}

async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) { reject(signal.reason); return }
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(t); reject(signal?.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
