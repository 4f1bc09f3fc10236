/**
 * The one place DHT frames meet libp2p streams: `/swarmcdn/dht/1.0.0` is
 * one request and its response per stream. Outbound: dial, write the
 * request, read one response, close, all under one timeout and the
 * caller's AbortSignal; the connection itself is set up under libp2p's
 * dial timeout only (connectionTo says why). Inbound: read one request, hand it to `onRequest`
 * (the overlay service, which asks the core), write what it answers.
 *
 * Rules: every frame is length-prefixed and capped at MAX_DHT_MESSAGE_BYTES
 * (FramedStream resets a stream that sends more); a frame that does not
 * decode, a response where a request belongs (or the reverse), or a
 * response to another request id resets the stream and is reported with
 * `onViolation`, which the service turns into the core's
 * protocolViolation. Timeouts and closed streams are failures, not
 * violations. Inbound requests waiting for an answer are bounded
 * (`maxPendingInbound`); outbound RPCs too (`maxOutboundRpcs`). Every
 * inbound violation (a frame trickled past the frame deadline included)
 * also counts against the peer in the node's offender guard
 * (net/offender-guard.ts), the policy every protocol shares, and a peer it
 * banned gets its DHT streams reset on arrival.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { SwarmNode } from './swarm-node.js'
import type { Contact } from '../core/dht/contact.js'
import { isDhtRequest, MAX_DHT_MESSAGE_BYTES } from '../core/messages/dht-messages.js'
import { DHT_PROTOCOL } from './protocol-ids.js'
import { FramedStream, isPeerFault, withTimeout } from './framed-stream.js'
import { offenderGuardOf, PeerBannedError } from './offender-guard.js'
import { decodeDhtFrame, DhtFrameError, encodeDhtFrame, type DhtFrameContent } from './dht-codec.js'
import { DeadlineAfterIo } from './deadline-after-io.js'

/** An RPC that could not complete: dial failure, timeout, reset, no answer, or too many in flight. */
export class DhtRpcError extends Error {
  override name = 'DhtRpcError'
  readonly code = 'ERR_DHT_RPC'
}

/** What the owner of a DhtRpc answers with. */
export interface DhtRpcHandlers {
  /** An inbound request from the authenticated `remotePeer`; resolve with the response, or undefined to reset the stream. */
  onRequest: (remotePeer: PeerId, request: DhtFrameContent, signal: AbortSignal) => Promise<DhtFrameContent | undefined>
  /** `peerId` sent something that breaks the protocol (already reset). */
  onViolation: (peerId: string, reason: string) => void
}

/** Options of a DhtRpc. */
export interface DhtRpcInit {
  /** Time for one outbound RPC (dial + request + response), in ms. Default 5000. */
  requestTimeoutMs?: number
  /** Time an inbound stream waits for a request and then for our answer, in ms. Default 10 000. */
  inboundTimeoutMs?: number
  /** Concurrent inbound DHT streams per connection. Default 32. */
  maxInboundStreams?: number
  /** Outbound RPCs in flight; more fail at once. Default 1024. */
  maxOutboundRpcs?: number
  /** Inbound requests waiting for an answer; more are reset. Default 1024. */
  maxPendingInbound?: number
}

/** Dial targets for a contact: its addresses with /p2p/ID appended, or its peer id when already connected. */
export function dialTargetsOf (node: SwarmNode, to: Contact): PeerId | Multiaddr[] {
  const peerId = peerIdFromString(to.peerId)
  if (node.getConnections(peerId).length > 0 || to.addrs.length === 0) return peerId
  const suffix = `/p2p/${to.peerId}`
  return to.addrs.map(a => multiaddr(a.endsWith(suffix) ? a : a + suffix))
}

/** Request/response transport of the DHT protocol over libp2p streams. */
export class DhtRpc {
  private readonly requestTimeoutMs: number
  private readonly inboundTimeoutMs: number
  private readonly maxInboundStreams: number
  private readonly maxOutboundRpcs: number
  private readonly maxPendingInbound: number
  private readonly shutdown = new AbortController()
  private outbound = 0
  private inbound = 0
  private listening = false

  constructor (private readonly node: SwarmNode, private readonly handlers: DhtRpcHandlers, init: DhtRpcInit = {}) {
    this.requestTimeoutMs = init.requestTimeoutMs ?? 5000
    this.inboundTimeoutMs = init.inboundTimeoutMs ?? 10_000
    this.maxInboundStreams = init.maxInboundStreams ?? 32
    this.maxOutboundRpcs = init.maxOutboundRpcs ?? 1024
    this.maxPendingInbound = init.maxPendingInbound ?? 1024
  }

  /** Starts answering inbound DHT streams (supernodes and seeders only: leaves are DHT clients). */
  async listen (): Promise<void> {
    if (this.listening) return
    this.listening = true
    await this.node.handle(DHT_PROTOCOL, async (stream, connection) => { await this.serve(stream, connection) }, { maxInboundStreams: this.maxInboundStreams })
  }

  /** Stops answering inbound DHT streams. */
  async unlisten (): Promise<void> {
    if (!this.listening) return
    this.listening = false
    await this.node.unhandle(DHT_PROTOCOL)
  }

  /** Aborts every RPC in flight and stops listening. */
  async stop (): Promise<void> {
    this.shutdown.abort()
    await this.unlisten().catch(() => {})
  }

  /** Sends `request` to `to` and returns its response (within `timeoutMs`, default requestTimeoutMs); throws DhtRpcError on any failure. */
  async request (to: Contact, request: DhtFrameContent, options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<DhtFrameContent> {
    if (this.outbound >= this.maxOutboundRpcs) throw new DhtRpcError(`${this.outbound} DHT RPCs already in flight`)
    this.outbound++
    // The deadline is checked after pending I/O: an answer that came in time while the event loop stalled still counts.
    const deadline = new DeadlineAfterIo(options.timeoutMs ?? this.requestTimeoutMs)
    const signal = AbortSignal.any([deadline.signal, this.shutdown.signal, ...(options.signal != null ? [options.signal] : [])])
    let stream: Stream | undefined
    try {
      const connection = await this.connectionTo(to, signal)
      stream = await connection.newStream(DHT_PROTOCOL, { signal })
      const framed = new FramedStream(stream, { maxFrameBytes: MAX_DHT_MESSAGE_BYTES })
      await framed.write(encodeDhtFrame(request), signal)
      const bytes = await framed.read(signal)
      if (bytes == null) throw new DhtRpcError(`${to.peerId} closed the stream without an answer`)
      let response: DhtFrameContent
      try {
        response = decodeDhtFrame(bytes)
        if (isDhtRequest(response.message)) throw new DhtFrameError(`a ${response.message.type} request where a response belongs`)
        if (response.message.requestId !== request.message.requestId) throw new DhtFrameError('response to another request id')
      } catch (err) {
        stream.abort(err as Error)
        this.handlers.onViolation(to.peerId, (err as Error).message)
        throw new DhtRpcError(`bad answer from ${to.peerId}: ${(err as Error).message}`)
      }
      await framed.close(signal)
      return response
    } catch (err) {
      if (isPeerFault(err)) this.handlers.onViolation(to.peerId, (err as Error).message)
      stream?.abort(err as Error)
      if (err instanceof DhtRpcError) throw err
      throw new DhtRpcError(`${request.message.type} to ${to.peerId} failed: ${(err as Error).message}`)
    } finally {
      deadline.clear()
      this.outbound--
    }
  }

  /**
   * The connection to `to`. The dial runs under libp2p's own dial timeout
   * (10 s), not the request's, which only bounds our wait: on a loaded
   * machine or a slow path, connection set-up (TCP, Noise, yamux: several
   * round trips on each side's event loop) can take longer than one DHT
   * request may. Aborting it with the request threw the half-made
   * connection away, so every retry started the handshakes over and timed
   * out the same way (31 peers on a 2-core machine at load 13 stayed
   * unattached for over a minute); a dial left running serves the next
   * request instead.
   */
  private async connectionTo (to: Contact, signal: AbortSignal): Promise<Connection> {
    signal.throwIfAborted()
    const dialing = this.node.dial(dialTargetsOf(this.node, to))
    // Nobody may be waiting for it any more when it fails: its failure is the request's, below, or no one's.
    dialing.catch(() => {})
    return await untilAborted(dialing, signal)
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const remote = connection.remotePeer
    const guard = offenderGuardOf(this.node)
    if (guard.refuses(remote.toString())) { stream.abort(new PeerBannedError('peer is banned for repeated protocol violations')); return }
    const violation = (reason: string): void => {
      guard.offense(remote.toString(), 'dht', reason)
      this.handlers.onViolation(remote.toString(), reason)
    }
    if (this.inbound >= this.maxPendingInbound) { stream.abort(new DhtRpcError('too many pending DHT requests')); return }
    this.inbound++
    const signal = withTimeout(this.shutdown.signal, this.inboundTimeoutMs)
    const framed = new FramedStream(stream, { maxFrameBytes: MAX_DHT_MESSAGE_BYTES })
    try {
      const bytes = await framed.read(signal)
      if (bytes == null) { stream.abort(new DhtRpcError('stream closed before a request')); return }
      let request: DhtFrameContent
      try {
        request = decodeDhtFrame(bytes)
        if (!isDhtRequest(request.message)) throw new DhtFrameError(`a ${request.message.type} response where a request belongs`)
      } catch (err) {
        stream.abort(err as Error)
        violation((err as Error).message)
        return
      }
      const response = await this.handlers.onRequest(remote, request, signal)
      if (response == null) { stream.abort(new DhtRpcError('no answer')); return }
      await framed.write(encodeDhtFrame(response), signal)
      await framed.close(signal)
    } catch (err) {
      if (isPeerFault(err)) violation((err as Error).message)
      stream.abort(err as Error)
    } finally {
      this.inbound--
    }
  }
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts (the promise's work goes on). */
async function untilAborted<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    if (onAbort != null) signal.removeEventListener('abort', onAbort)
  }
}
