/**
 * `/swarmcdn/reach/1.0.0`: dial-back for reachability, after AutoNAT v1
 * (https://github.com/libp2p/specs/blob/master/autonat/autonat-v1.md). The
 * asker sends one JSON frame `{"addrs": [...]}` (at most
 * MAX_REACH_ADDRS TCP multiaddrs of its own); the verifier dials each on a
 * new connection and answers `{"results": [{"addr", "dialable"}]}`.
 * What the answers mean is the peer core's business
 * (core/reach/reachability.ts); this file only dials and reports.
 *
 * Verifier rules, as AutoNAT's, so nobody can aim it at a third party:
 * only addresses on the IP the asker's own connection comes from, never
 * asked over a relayed connection, one dial-back per asker at a time and
 * `maxConcurrent` in all, each bounded by `dialTimeoutMs`.
 *
 * Why not libp2p's AutoNAT service: @libp2p/utils counts 198.18.0.0/15 (the
 * test internet of scripts/nat-net.sh) as private, so its server refuses to
 * dial those addresses and its client never asks about them; it counts
 * verifiers by /8 (one in our test internet); and its verdict lives inside
 * libp2p's address manager, where the core (and the simulator) cannot
 * apply or test the rule.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '@libp2p/interface'
import type { SwarmNode } from './swarm-node.js'
import { REACH_PROTOCOL } from './protocol-ids.js'
import { FramedStream, FrameError, isPeerFault, withTimeout } from './framed-stream.js'
import { offenderGuardOf } from './offender-guard.js'

/** Addresses one request may name. */
export const MAX_REACH_ADDRS = 4
/** Largest request or answer frame, bytes. */
export const MAX_REACH_FRAME_BYTES = 4096

/** Options of the verifier side. */
export interface ReachServerInit {
  /** Time one dial-back may take, ms. Default 5000. */
  dialTimeoutMs?: number
  /** Dial-backs in progress at once, all askers together. Default 8. */
  maxConcurrent?: number
}

/** One dial-back result. */
export interface ReachResult { addr: string, dialable: boolean }

/** The verifier refused a request (busy, or the asker already has one in progress). */
export class ReachRefusedError extends Error {
  override name = 'ReachRefusedError'
  readonly code = 'ERR_REACH_REFUSED'
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

/** Serves dial-back requests while `enabled()` (the peer core says who verifies). */
export async function registerReachServer (node: SwarmNode, enabled: () => boolean, init: ReachServerInit = {}): Promise<() => Promise<void>> {
  const guard = offenderGuardOf(node)
  const dialTimeoutMs = init.dialTimeoutMs ?? 5000
  const maxConcurrent = init.maxConcurrent ?? 8
  const busy = new Set<string>()
  await node.handle(REACH_PROTOCOL, async (stream, connection) => {
    const peerId = connection.remotePeer.toString()
    const askerIp = remoteIpOf(connection)
    if (!enabled() || askerIp === undefined || busy.has(peerId) || busy.size >= maxConcurrent) {
      stream.abort(new ReachRefusedError('dial-back refused (not a verifier, relayed, or busy)'))
      return
    }
    busy.add(peerId)
    const signal = AbortSignal.timeout(dialTimeoutMs * MAX_REACH_ADDRS + 5000)
    const framed = new FramedStream(stream, { maxFrameBytes: MAX_REACH_FRAME_BYTES, frameTimeoutMs: 5000 })
    try {
      const bytes = await framed.read(signal)
      if (bytes == null) throw new FrameError('reach request missing')
      const addrs = parseAddrs(bytes)
      const results: ReachResult[] = []
      for (const addr of addrs) {
        const ep = tcpEndpoint(addr)
        // Never dial an address that is not the asker's own IP.
        if (ep === undefined || ep.ip !== askerIp) continue
        results.push({ addr, dialable: await dialBack(node, addr, peerId, withTimeout(signal, dialTimeoutMs)) })
      }
      await framed.write(new TextEncoder().encode(JSON.stringify({ results })), signal)
      await framed.close(signal)
    } catch (err) {
      if (isPeerFault(err)) guard.offense(peerId, 'reach', (err as Error).message)
      stream.abort(err as Error)
    } finally {
      busy.delete(peerId)
    }
  }, { maxInboundStreams: 2 })
  return async () => { await node.unhandle(REACH_PROTOCOL) }
}

function parseAddrs (bytes: Uint8Array): string[] {
  let doc: unknown
  try { doc = JSON.parse(new TextDecoder().decode(bytes)) } catch { throw new FrameError('reach request is not JSON') }
  const addrs = (doc as { addrs?: unknown })?.addrs
  if (!Array.isArray(addrs) || addrs.length > MAX_REACH_ADDRS || !addrs.every(a => typeof a === 'string' && a.length <= 256)) {
    throw new FrameError(`reach request must name at most ${MAX_REACH_ADDRS} addresses`)
  }
  return addrs as string[]
}

/** A new connection to `peerId` at exactly `addr` (an existing one proves nothing), closed at once. */
async function dialBack (node: SwarmNode, addr: string, peerId: string, signal: AbortSignal): Promise<boolean> {
  let conn: Connection | undefined
  try {
    conn = await node.dial(multiaddr(`${addr}/p2p/${peerId}`), { signal, force: true })
    return conn.remoteAddr.toString().startsWith(addr)
  } catch {
    return false
  } finally {
    if (conn != null) await conn.close().catch(() => {})
  }
}

/** Asks the peer on `connection` to dial `addrs` back; resolves its answers (only addresses it tried). */
export async function askReach (connection: Connection, addrs: string[], init: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<ReachResult[]> {
  const signal = withTimeout(init.signal, init.timeoutMs ?? 30_000)
  const stream = await connection.newStream(REACH_PROTOCOL, { signal })
  const framed = new FramedStream(stream, { maxFrameBytes: MAX_REACH_FRAME_BYTES, frameTimeoutMs: 30_000 })
  try {
    await framed.write(new TextEncoder().encode(JSON.stringify({ addrs: addrs.slice(0, MAX_REACH_ADDRS) })), signal)
    const bytes = await framed.read(signal)
    if (bytes == null) throw new FrameError('verifier closed the reach stream without an answer')
    const results = (JSON.parse(new TextDecoder().decode(bytes)) as { results?: unknown }).results
    if (!Array.isArray(results)) throw new FrameError('reach answer without results')
    const asked = new Set(addrs)
    return results.filter((r): r is ReachResult => typeof r?.addr === 'string' && asked.has(r.addr) && typeof r.dialable === 'boolean')
  } finally {
    if (stream.status === 'open') await framed.close(signal).catch(() => {})
  }
}
