/**
 * The serving side of `/swarmcdn/xfer/1.0.0` on an origin seeder: the
 * regular responder (xfer-server.ts), whose handshake also says "origin",
 * so a client that dialled us directly (`get --peer`, a busy origin's
 * alternative) knows what we are from us, not from how it was told about
 * us. Kept apart from xfer-server.ts while that file is being rewritten;
 * it belongs there as one option of registerXferProtocol.
 */
import type { ContentProvider } from './content-provider.js'
import type { SwarmNode } from './swarm-node.js'
import type { XferMessage } from '../core/messages/xfer-messages.js'
import { XFER_PROTOCOL } from './protocol-ids.js'
import { serveXferStream, XferResponder, type ResponderOutput, type XferProtocolInit } from './xfer-server.js'

/** Default concurrent inbound xfer streams per connection (as registerXferProtocol's). */
const DEFAULT_MAX_INBOUND_XFER_STREAMS = 32

/** An XferResponder whose handshake reply carries `origin: true`. */
export class OriginXferResponder extends XferResponder {
  override onMessage (msg: XferMessage): ResponderOutput {
    const out = super.onMessage(msg)
    return { ...out, replies: out.replies.map(r => r.type === 'handshake' ? { ...r, origin: true } : r) }
  }
}

/** Serves pieces from `provider` on `node` as an origin seeder (see the file's comment). */
export async function registerOriginXferProtocol (node: SwarmNode, provider: ContentProvider, init: XferProtocolInit = {}): Promise<void> {
  await node.handle(XFER_PROTOCOL, async (stream, connection) => {
    await serveXferStream(stream, new OriginXferResponder(provider, { peerId: connection.remotePeer.toString(), remoteAddr: connection.remoteAddr.toString(), gate: init.gate }), init)
  }, { maxInboundStreams: init.maxInboundStreams ?? DEFAULT_MAX_INBOUND_XFER_STREAMS })
}
