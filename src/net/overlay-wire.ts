/**
 * The overlay peer's messages on the wire: a request goes out on its own
 * DHT stream with the timeout the peer names, and its response comes back
 * as the peer's input; an inbound request becomes the peer's input, and
 * the response the peer sends goes back on the stream the request came in
 * on. Only a leaf's query may be answered later (after the supernode's
 * lookup); any other request the peer leaves unanswered is never answered.
 */
import type { PeerId } from '@libp2p/interface'
import type { SwarmNode } from './swarm-node.js'
import { DhtRpc, DhtRpcError, type DhtRpcInit } from './dht-rpc.js'
import type { DhtFrameContent } from './dht-codec.js'
import { contactOf } from './overlay-contacts.js'
import type { Contact } from '../core/dht/contact.js'
import { isDhtRequest, type DhtMessage } from '../core/messages/dht-messages.js'
import type { OverlayEffect, OverlayPeer } from '../core/peer/overlay-peer.js'

/** What the wire needs of the overlay shell. */
export interface OverlayWireHost {
  readonly peer: OverlayPeer
  /** Feeds one input to the peer and performs its effects. */
  input: (fn: (nowMs: number) => OverlayEffect[]) => void
  /** Reports a problem that is not the remote peer's fault alone (an I/O error). */
  error: (message: string) => void
  /** True while the overlay runs. */
  running: () => boolean
}

/** DHT streams for one overlay peer. */
export class OverlayWire {
  private readonly rpc: DhtRpc
  private readonly inboundWaiters = new Map<string, (m: DhtMessage | undefined) => void>()

  constructor (node: SwarmNode, private readonly host: OverlayWireHost, init: DhtRpcInit) {
    this.rpc = new DhtRpc(node, {
      onRequest: async (remote, request, signal) => await this.onRequest(remote, request, signal),
      onViolation: (peerId, reason) => {
        host.error(`protocol violation by ${peerId}: ${reason}`)
        host.input(nowMs => host.peer.protocolViolation(nowMs, peerId, reason))
      }
    }, init)
  }

  /** Members listen on the DHT protocol; a leaf does not (its streams fail at once, as `not-a-dht-node` says). */
  async setListening (on: boolean): Promise<void> { await (on ? this.rpc.listen() : this.rpc.unlisten()) }

  async stop (): Promise<void> {
    for (const w of this.inboundWaiters.values()) w(undefined)
    await this.rpc.stop()
  }

  /** Sends the peer's message: a request on a new stream, a response on its request's stream. */
  send (to: Contact, message: DhtMessage): void {
    const { host } = this
    if (!isDhtRequest(message)) {
      this.inboundWaiters.get(`${to.peerId} ${message.requestId}`)?.(message)
      return
    }
    void this.rpc.request(to, this.frame(message), { timeoutMs: host.peer.requestTimeoutFor(message) }).then(response => {
      const from = contactOf(to.peerId, response.senderAddrs.length > 0 ? response.senderAddrs : to.addrs, response.senderRole)
      host.input(nowMs => host.peer.message(nowMs, from, response.senderRole, response.message))
    }, (err: Error) => {
      if (!(err instanceof DhtRpcError)) host.error(err.message)
      host.input(nowMs => host.peer.rpcFailed(nowMs, message.requestId))
    })
  }

  private async onRequest (remote: PeerId, request: DhtFrameContent, signal: AbortSignal): Promise<DhtFrameContent | undefined> {
    const { host } = this
    if (!host.running()) return undefined
    const peerId = remote.toString()
    const from = contactOf(peerId, request.senderAddrs, request.senderRole)
    const m = request.message
    const waitKey = `${peerId} ${m.requestId}`
    if (this.inboundWaiters.has(waitKey)) return undefined
    let answer: DhtMessage | undefined
    const answered = new Promise<DhtMessage | undefined>(resolve => {
      this.inboundWaiters.set(waitKey, msg => { answer = msg; resolve(msg) })
      signal.addEventListener('abort', () => { resolve(undefined) }, { once: true })
    })
    host.input(nowMs => host.peer.message(nowMs, from, request.senderRole, m))
    // Only a leaf's query may be answered later (after a DHT lookup); anything else unanswered now never will be.
    if (answer === undefined && m.type !== 'query') { this.inboundWaiters.delete(waitKey); return undefined }
    try {
      const msg = await answered
      return msg == null ? undefined : this.frame(msg)
    } finally {
      this.inboundWaiters.delete(waitKey)
    }
  }

  private frame (message: DhtMessage): DhtFrameContent {
    return { message, senderRole: this.host.peer.role, senderAddrs: this.host.peer.contact.addrs }
  }
}
