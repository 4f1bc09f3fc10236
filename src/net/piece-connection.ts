/**
 * Opens the connection a download's pieces (and manifest) travel on.
 * Pieces flow on direct connections only: a relay's upload belongs to its
 * leaves' signalling, and libp2p marks relayed connections limited, where
 * the xfer and manifest protocols do not run. So, for a source:
 * 1. an open unlimited connection to it is used;
 * 2. else its direct addresses are dialled (public first, loopback last:
 *    libp2p's order), which reaches public peers and peers on our LAN;
 * 3. else it is dialled through a relay address, and we wait at most
 *    `directWaitMs` for a direct connection to appear: libp2p's DCUtR on
 *    the far side dials our public addresses (a reverse connection) or
 *    both sides try a hole punch. A relay that lets pieces through
 *    (`relayPieces`) gives an unlimited relayed connection, used at once.
 * Past that wait the source fails with NoDirectConnectionError and the
 * download carries on with its other sources and the origin.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Connection, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { SwarmNode } from './swarm-node.js'

/** Default wait for a direct connection after a relayed one opened, ms. */
export const DEFAULT_DIRECT_WAIT_MS = 5_000
/** Default time for the direct dial of step 2, ms (an address behind a NAT usually swallows the SYN). */
export const DEFAULT_DIRECT_DIAL_TIMEOUT_MS = 4_000

/** Options of openPieceConnection. */
export interface PieceConnectionInit {
  signal?: AbortSignal
  /** Every address known for the source (with or without /p2p/ID), relayed ones included. Default: the target alone. */
  dialAddrs?: readonly string[]
  /** Wait for a direct connection after a relayed one opened, ms. Default 5000. */
  directWaitMs?: number
  /** Time for the direct dial, ms. Default 4000. */
  directDialTimeoutMs?: number
}

/** The source can be reached through a relay only, and no direct connection came in time. */
export class NoDirectConnectionError extends Error {
  override name = 'NoDirectConnectionError'
  readonly code = 'ERR_NO_DIRECT_CONNECTION'
}

/** How a connection to a source was made: we dialled it, it dialled us (a reverse connection), or through a circuit relay. */
export type ConnectionKind = 'direct' | 'reverse' | 'relayed'

/** The kind of `conn` (see ConnectionKind). */
export function connectionKindOf (conn: Pick<Connection, 'remoteAddr' | 'direction'>): ConnectionKind {
  if (conn.remoteAddr.toString().includes('/p2p-circuit')) return 'relayed'
  return conn.direction === 'inbound' ? 'reverse' : 'direct'
}

/** A connection to `target` that pieces may cross (see the rules above). */
export async function openPieceConnection (node: SwarmNode, target: Multiaddr | PeerId, init: PieceConnectionInit = {}): Promise<Connection> {
  const signal = init.signal
  const peerId = peerOfTarget(target)
  if (peerId == null) return await node.dial(target, { signal })
  const open = unlimitedConnection(node, peerId)
  if (open != null) return open

  const id = peerId.toString()
  const known = [...new Set([...(isMultiaddr(target) ? [target.toString()] : []), ...(init.dialAddrs ?? [])].map(a => withPeer(a, id)))]
  const direct = known.filter(a => !a.includes('/p2p-circuit'))
  const relayed = known.filter(a => a.includes('/p2p-circuit'))
  const failures: string[] = []
  if (direct.length > 0) {
    try {
      const dialSignal = AbortSignal.any([AbortSignal.timeout(init.directDialTimeoutMs ?? DEFAULT_DIRECT_DIAL_TIMEOUT_MS), ...(signal != null ? [signal] : [])])
      const conn = await node.dial(direct.map(a => multiaddr(a)), { signal: dialSignal })
      if (conn.limits == null) return conn
    } catch (err) {
      if (signal?.aborted === true) throw err
      if (relayed.length === 0) throw err
      failures.push((err as Error).message)
    }
  }
  if (relayed.length === 0) throw new NoDirectConnectionError(`no address of ${id} to dial`)
  // Watch before dialling: the far side's reverse dial may arrive while our relayed dial completes.
  const waiter = waitForUnlimited(node, peerId, signal)
  try {
    const conn = await node.dial(relayed.map(a => multiaddr(a)), { signal })
    if (conn.limits == null) return conn
    const waitMs = init.directWaitMs ?? DEFAULT_DIRECT_WAIT_MS
    const found = await waiter.wait(waitMs)
    if (found != null) return found
    throw new NoDirectConnectionError(`reached ${id} only through a relay; no direct connection within ${waitMs} ms${failures.length > 0 ? ` (direct dial: ${failures[0]})` : ''}`)
  } finally {
    waiter.cancel()
  }
}

function unlimitedConnection (node: SwarmNode, peerId: PeerId): Connection | undefined {
  return node.getConnections(peerId).find(c => c.status === 'open' && c.limits == null)
}

/** Resolves with the first unlimited connection to `peerId` that opens (or is open), or undefined after the wait. */
function waitForUnlimited (node: SwarmNode, peerId: PeerId, signal: AbortSignal | undefined): { wait: (ms: number) => Promise<Connection | undefined>, cancel: () => void } {
  let resolve: ((c: Connection | undefined) => void) | undefined
  let found: Connection | undefined
  let timer: NodeJS.Timeout | undefined
  const onOpen = (e: CustomEvent<Connection>): void => {
    if (!e.detail.remotePeer.equals(peerId) || e.detail.limits != null) return
    found ??= e.detail
    resolve?.(found)
  }
  const onAbort = (): void => { resolve?.(undefined) }
  node.addEventListener('connection:open', onOpen)
  signal?.addEventListener('abort', onAbort)
  const cancel = (): void => {
    node.removeEventListener('connection:open', onOpen)
    signal?.removeEventListener('abort', onAbort)
    clearTimeout(timer)
  }
  return {
    cancel,
    wait: async ms => await new Promise<Connection | undefined>(res => {
      resolve = c => { resolve = undefined; cancel(); res(c?.status === 'open' ? c : undefined) }
      const open = found ?? unlimitedConnection(node, peerId)
      if (open != null) { resolve(open); return }
      timer = setTimeout(() => { resolve?.(undefined) }, ms)
    })
  }
}

function isMultiaddr (t: Multiaddr | PeerId): t is Multiaddr {
  return typeof (t as Multiaddr).getComponents === 'function'
}

function peerOfTarget (t: Multiaddr | PeerId): PeerId | undefined {
  if (!isMultiaddr(t)) return t
  const id = t.getComponents().findLast(c => c.name === 'p2p')?.value
  return id == null ? undefined : peerIdFromString(id)
}

function withPeer (addr: string, id: string): string {
  return addr.endsWith(`/p2p/${id}`) ? addr : `${addr}/p2p/${id}`
}
