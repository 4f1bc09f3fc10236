/**
 * `/swarmcdn/delivery/1.0.0`: a downloader that completed an item sends
 * one report (content id, bytes by source kind and locality class) to an
 * origin, which answers one ack with its verdict and ends the stream.
 * The origin's rules (one per peer and item, rate per peer, plausible
 * totals) are the pure DeliveryLedger's; this file is the codec and the
 * stream. A frame that does not decode counts against the sender in the
 * node's offender guard. Reports are informative, not proof.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import type { SwarmNode } from './swarm-node.js'
import { DELIVERY_PROTOCOL } from './protocol-ids.js'
import { FramedStream, FrameError, isPeerFault, withTimeout } from './framed-stream.js'
import { offenderGuardOf, PeerBannedError } from './offender-guard.js'
import { DeliveryAckFrame, DeliveryReportFrame, type LocalityBytes } from './delivery-pb.js'
import { DELIVERY_VERDICTS, type DeliveryLedger, type DeliveryReport, type DeliveryVerdict } from '../core/accounting/delivery-ledger.js'
import { parseContentId } from '../core/content/content-id.js'
import type { LocalityByteCounts } from '../core/proximity/locality.js'

/** Largest report or ack frame, bytes (a report is ~80: a CID and eight varints). */
export const MAX_DELIVERY_FRAME_BYTES = 256
/** Default time for a whole exchange, ms. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 5_000
/** Longest content id text accepted in a report. */
export const MAX_REPORTED_CONTENT_ID_CHARS = 128

/** A report or ack that breaks the codec's rules. */
export class DeliveryFrameError extends Error {
  override name = 'DeliveryFrameError'
  readonly code = 'ERR_DELIVERY_FRAME'
  readonly peerFault = true
}

function toWire (c: LocalityByteCounts): LocalityBytes {
  return { sameAs: BigInt(c['same-as']), samePrefix: BigInt(c['same-prefix']), otherAs: BigInt(c['other-as']), unknown: BigInt(c.unknown) }
}

function count (n: bigint): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new DeliveryFrameError('a byte count is beyond 2^53')
  return Number(n)
}

function fromWire (w: LocalityBytes | undefined): LocalityByteCounts {
  return w == null
    ? { 'same-as': 0, 'same-prefix': 0, 'other-as': 0, unknown: 0 }
    : { 'same-as': count(w.sameAs), 'same-prefix': count(w.samePrefix), 'other-as': count(w.otherAs), unknown: count(w.unknown) }
}

/** Encodes a report (counts must be safe non-negative integers). */
export function encodeDeliveryReport (r: DeliveryReport): Uint8Array {
  return DeliveryReportFrame.encode({ contentId: r.contentId, origin: toWire(r.origin), peer: toWire(r.peer) })
}

/** Decodes a report strictly: size, a valid content id, counts within 2^53. Throws DeliveryFrameError. */
export function decodeDeliveryReport (bytes: Uint8Array): DeliveryReport {
  if (bytes.length > MAX_DELIVERY_FRAME_BYTES) throw new DeliveryFrameError(`report of ${bytes.length} bytes is over ${MAX_DELIVERY_FRAME_BYTES}`)
  let f: DeliveryReportFrame
  try { f = DeliveryReportFrame.decode(bytes) } catch (err) { throw new DeliveryFrameError(`report does not decode: ${(err as Error).message}`) }
  if (f.contentId.length > MAX_REPORTED_CONTENT_ID_CHARS) throw new DeliveryFrameError('content id too long')
  try { parseContentId(f.contentId) } catch { throw new DeliveryFrameError(`not a content id: ${JSON.stringify(f.contentId.slice(0, 80))}`) }
  return { contentId: f.contentId, origin: fromWire(f.origin), peer: fromWire(f.peer) }
}

/** Decodes an ack: one of DELIVERY_VERDICTS. */
export function decodeDeliveryAck (bytes: Uint8Array): DeliveryVerdict {
  let f: DeliveryAckFrame
  try { f = DeliveryAckFrame.decode(bytes) } catch (err) { throw new DeliveryFrameError(`ack does not decode: ${(err as Error).message}`) }
  if (!(DELIVERY_VERDICTS as readonly string[]).includes(f.verdict)) throw new DeliveryFrameError(`unknown verdict ${JSON.stringify(f.verdict.slice(0, 40))}`)
  return f.verdict as DeliveryVerdict
}

/** Options of registerDeliveryProtocol. */
export interface DeliveryProtocolInit {
  /** The origin's ledger (its rules decide). */
  ledger: DeliveryLedger
  /** The length of an item this origin holds, bytes; undefined when it does not hold it. */
  itemLengthBytes: (contentId: string) => number | undefined
  /** Time for one exchange, ms. Default DEFAULT_DELIVERY_TIMEOUT_MS. */
  timeoutMs?: number
}

/** Answers delivery reports on `node` (origins only). */
export async function registerDeliveryProtocol (node: SwarmNode, init: DeliveryProtocolInit): Promise<void> {
  const guard = offenderGuardOf(node)
  const timeoutMs = init.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS
  await node.handle(DELIVERY_PROTOCOL, async (stream, connection) => {
    const peerId = connection.remotePeer.toString()
    if (guard.refuses(peerId)) { stream.abort(new PeerBannedError('peer is banned for repeated protocol violations')); return }
    const signal = AbortSignal.timeout(timeoutMs)
    const framed = new FramedStream(stream, { maxFrameBytes: MAX_DELIVERY_FRAME_BYTES, frameTimeoutMs: timeoutMs })
    try {
      const frame = await framed.read(signal)
      if (frame == null) { stream.abort(new FrameError('delivery stream closed before a report', { peerFault: false })); return }
      const report = decodeDeliveryReport(frame)
      const verdict = init.ledger.accept(Date.now(), peerId, report, init.itemLengthBytes(report.contentId))
      await framed.write(DeliveryAckFrame.encode({ verdict }), signal)
      await framed.close(signal)
    } catch (err) {
      if (isPeerFault(err)) guard.offense(peerId, 'delivery', (err as Error).message)
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: 2 })
}

/** Sends one report to the origin at `target` and returns its verdict. */
export async function sendDeliveryReport (node: SwarmNode, target: Multiaddr | PeerId, report: DeliveryReport, init: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<DeliveryVerdict> {
  const signal = withTimeout(init.signal, init.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS)
  const stream = await node.dialProtocol(target, DELIVERY_PROTOCOL, { signal })
  const framed = new FramedStream(stream, { maxFrameBytes: MAX_DELIVERY_FRAME_BYTES })
  try {
    await framed.write(encodeDeliveryReport(report), signal)
    const frame = await framed.read(signal)
    if (frame == null) throw new FrameError('origin closed the delivery stream without an ack')
    return decodeDeliveryAck(frame)
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    if (stream.status === 'open') await framed.close(signal).catch(() => {})
  }
}
