/**
 * `/swarmcdn/status/1.0.0`: the dialer reads one JSON document (the
 * overlay's status plus whatever the peer adds) and the stream ends. Used
 * by `swarmcdn status --peer`; capped at MAX_STATUS_BYTES both ways.
 *
 * The dialer sends nothing: a byte from it is a protocol violation and
 * counts against it in the node's offender guard (net/offender-guard.ts).
 * A served stream lives at most `timeoutMs` whatever the dialer does
 * (writing, trickling or not reading), then it is reset.
 *
 * The document says what a peer holds and downloads: it is answered only
 * to the local machine (a connection from 127.0.0.0/8 or ::1, what
 * `swarmcdn status` on the same host makes) and to the peer ids the owner
 * allowed (`allowPeerIds`); anyone else's stream is reset unanswered.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { SwarmNode } from './swarm-node.js'
import { STATUS_PROTOCOL } from './protocol-ids.js'
import { FramedStream, FrameError, isPeerFault, withTimeout } from './framed-stream.js'
import { offenderGuardOf, PeerBannedError } from './offender-guard.js'

/** Largest status document, in bytes. */
export const MAX_STATUS_BYTES = 16 * 1024
/** Default time for dial plus read, in ms. */
export const DEFAULT_STATUS_TIMEOUT_MS = 5000

/** Options for registerStatusProtocol. */
export interface StatusProtocolInit {
  /** Longest a served status stream lives, ms. Default DEFAULT_STATUS_TIMEOUT_MS (5 s). */
  timeoutMs?: number
  /** Answer dialers connected from a loopback address (this machine). Default true. */
  allowLoopback?: boolean
  /** Peer ids answered wherever they connect from. Default none. */
  allowPeerIds?: readonly string[]
}

/** The status of a peer was asked by someone it does not answer. */
export class StatusRefusedError extends Error {
  override name = 'StatusRefusedError'
  readonly code = 'ERR_STATUS_REFUSED'
}

/** True for a multiaddr on 127.0.0.0/8 or ::1. */
function isLoopbackAddr (addr: string): boolean {
  return /^\/ip4\/127\./.test(addr) || /^\/ip6\/::1(\/|$)/.test(addr)
}

/** Answers every status stream with `status()` as JSON. */
export async function registerStatusProtocol (node: SwarmNode, status: () => unknown, init: StatusProtocolInit = {}): Promise<void> {
  const guard = offenderGuardOf(node)
  const timeoutMs = init.timeoutMs ?? DEFAULT_STATUS_TIMEOUT_MS
  const allowLoopback = init.allowLoopback ?? true
  const allowed = new Set(init.allowPeerIds ?? [])
  await node.handle(STATUS_PROTOCOL, async (stream, connection) => {
    const peerId = connection.remotePeer.toString()
    if (guard.refuses(peerId)) { stream.abort(new PeerBannedError('peer is banned for repeated protocol violations')); return }
    if (!allowed.has(peerId) && !(allowLoopback && isLoopbackAddr(connection.remoteAddr.toString()))) {
      stream.abort(new StatusRefusedError('status is answered only to this machine and allowed peer ids'))
      return
    }
    const signal = AbortSignal.timeout(timeoutMs)
    const framed = new FramedStream(stream, { maxFrameBytes: 64, frameTimeoutMs: timeoutMs })
    try {
      const bytes = new TextEncoder().encode(JSON.stringify(status()))
      if (bytes.length > MAX_STATUS_BYTES) throw new FrameError('status document too large', { peerFault: false })
      await framed.write(bytes, signal)
      await framed.close(signal)
      // The dialer's side must end without a byte; waiting for that end is bounded by the same deadline.
      if (await framed.read(signal) != null) throw new FrameError('status dialer sent a frame; the protocol has none')
    } catch (err) {
      if (isPeerFault(err)) guard.offense(peerId, 'status', (err as Error).message)
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: 4 })
}

/** Reads the status document of the peer at `target`. */
export async function fetchStatus (node: SwarmNode, target: Multiaddr, init: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<unknown> {
  const signal = withTimeout(init.signal, init.timeoutMs ?? DEFAULT_STATUS_TIMEOUT_MS)
  const stream = await node.dialProtocol(target, STATUS_PROTOCOL, { signal })
  const framed = new FramedStream(stream, { maxFrameBytes: MAX_STATUS_BYTES })
  try {
    const bytes = await framed.read(signal)
    if (bytes == null) throw new FrameError('peer closed the status stream without an answer')
    return JSON.parse(new TextDecoder().decode(bytes))
  } finally {
    if (stream.status === 'open') await framed.close(signal).catch(() => {})
  }
}
