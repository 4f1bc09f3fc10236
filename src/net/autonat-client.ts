/**
 * Asks one verifier whether it can dial one of our addresses, over
 * libp2p's AutoNAT v2 (https://github.com/libp2p/specs/blob/master/autonat/autonat-v2.md).
 * The verifier is libp2p's own server (`@libp2p/autonat-v2`, on every
 * node: swarm-node.ts): it refuses private addresses, dials the address
 * on a new connection and sends our nonce on `/libp2p/autonat/2/dial-back`,
 * and answers with the dial's status. Its rules keep it from being aimed
 * at a third party: an address on another IP than the asker's costs the
 * asker 30-100 KB of dial data first (we never ask about one).
 *
 * Why our own client and not libp2p's: libp2p's AutoNAT client folds
 * every verifier's answer into its address manager (confirmed after 4
 * verifiers in different /8s for an observed address) and reports no
 * answer per verifier; the peer core needs each one (who, from which
 * network, which address) to apply its own rule (core/reach). The
 * dial-back stream is answered by libp2p's client, which accepts only
 * nonces it knows: we add ours to its set for the request
 * (`registerNonce`). If that set is not where this version keeps it, the
 * verifier reports E_DIAL_BACK_ERROR after a dial that did connect; we
 * then count the dial as a success (see `verdictOf`).
 */
import { randomBytes } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '@libp2p/interface'
import type { SwarmNode } from './swarm-node.js'
import { FramedStream, FrameError, withTimeout } from './framed-stream.js'
import { AutoNatDialResponse, AutoNatDialStatus, AutoNatMessage } from './autonat-v2-pb.js'

/** The verifier side's protocol (libp2p's AutoNAT v2 server). */
export const AUTONAT_DIAL_REQUEST_PROTOCOL = '/libp2p/autonat/2/dial-request'
/** Largest AutoNAT message, bytes (libp2p's limit). */
export const MAX_AUTONAT_MESSAGE_BYTES = 8192

/** One dial-back result: whether the verifier reached us at `addr`. */
export interface ReachResult { addr: string, dialable: boolean }

/**
 * What a verifier's answer says about `addr`: dialable, not dialable, or
 * nothing (refused, rejected, or a dial-back that reached someone who did
 * not know our nonce while we had registered it).
 */
export function verdictOf (response: AutoNatDialResponse, nonceRegistered: boolean): boolean | undefined {
  if (response.status !== AutoNatDialResponse.ResponseStatus.OK) return undefined
  switch (response.dialStatus) {
    case AutoNatDialStatus.OK: return true
    case AutoNatDialStatus.E_DIAL_ERROR: return false
    case AutoNatDialStatus.E_DIAL_BACK_ERROR: return nonceRegistered ? undefined : true
    default: return undefined
  }
}

/** Asks the verifier on `connection` to dial `addr` (a plain `/ip4|ip6/X/tcp/P` of ours); undefined when it gave no verdict. */
export async function askAutoNat (node: SwarmNode, connection: Connection, addr: string, init: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<ReachResult | undefined> {
  const signal = withTimeout(init.signal, init.timeoutMs ?? 30_000)
  // Below 2^53 as libp2p's own: its codec reads the fixed64 back as a signed value, so a nonce past 2^63 would not match.
  const nonce = randomBytes(8).readBigUInt64BE() >> 11n
  const unregister = registerNonce(node, nonce)
  const stream = await connection.newStream(AUTONAT_DIAL_REQUEST_PROTOCOL, { signal })
  const framed = new FramedStream(stream, { maxFrameBytes: MAX_AUTONAT_MESSAGE_BYTES, frameTimeoutMs: 30_000 })
  try {
    await framed.write(AutoNatMessage.encode({ dialRequest: { addrs: [multiaddr(addr).bytes], nonce } }), signal)
    const frame = await framed.read(signal)
    if (frame == null) return undefined
    let m: AutoNatMessage
    try { m = AutoNatMessage.decode(frame) } catch (err) { throw new FrameError(`malformed AutoNAT answer: ${(err as Error).message}`) }
    // A request for dial data means the verifier saw another IP than the address's: we do not pay for that.
    if (m.dialResponse == null || m.dialResponse.addrIdx !== 0) return undefined
    const dialable = verdictOf(m.dialResponse, unregister != null)
    return dialable === undefined ? undefined : { addr, dialable }
  } finally {
    unregister?.()
    if (stream.status === 'open') await framed.close(signal).catch(() => { stream.abort(new Error('closing')) })
  }
}

/** Adds `nonce` to the nonces libp2p's AutoNAT v2 client accepts on its dial-back handler; returns the undo, or undefined when this version keeps them elsewhere. */
function registerNonce (node: SwarmNode, nonce: bigint): (() => void) | undefined {
  const nonces = (node.services as { autoNAT?: { client?: { nonces?: unknown } } }).autoNAT?.client?.nonces
  if (!(nonces instanceof Set)) return undefined
  nonces.add(nonce)
  return () => { nonces.delete(nonce) }
}

/** The IP and TCP port of a plain `/ip4|ip6/X/tcp/P` multiaddr, else undefined. */
export function tcpEndpoint (addr: string): { ip: string, port: number } | undefined {
  const m = /^\/ip[46]\/([^/]+)\/tcp\/(\d+)$/.exec(addr)
  if (m == null) return undefined
  const port = Number(m[2])
  return port > 0 && port < 65536 ? { ip: m[1], port } : undefined
}

/** The IP a connection comes from, or undefined when it is relayed or not IP. */
export function remoteIpOf (connection: Connection): string | undefined {
  const text = connection.remoteAddr.toString()
  if (text.includes('/p2p-circuit')) return undefined
  return /^\/ip[46]\/([^/]+)\//.exec(text)?.[1]
}
