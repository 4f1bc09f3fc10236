/**
 * Whether a relay we hold a reservation at really relays to us: a
 * throwaway identity of ours (a bare libp2p node with no listen address)
 * dials our own relayed address through it. The relay must open its STOP
 * stream to us and our node must finish the handshake for the dial to
 * succeed, so success means a stranger's relayed connection would arrive.
 * libp2p will not dial its own peer id, hence the second identity; it is
 * stopped after each probe.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { createSwarmNode } from './swarm-node.js'

/** True when a connection through `relayedAddr` (`.../p2p/RELAY/p2p-circuit/p2p/US`) reached us within `timeoutMs` (false when `signal` aborts first). */
export async function probeRelayed (relayedAddr: string, init: { timeoutMs: number, signal?: AbortSignal }): Promise<boolean> {
  const signal = init.signal == null ? AbortSignal.timeout(init.timeoutMs) : AbortSignal.any([init.signal, AbortSignal.timeout(init.timeoutMs)])
  if (signal.aborted) return false
  const prober = await createSwarmNode({ listenMultiaddrs: [] })
  try {
    const conn = await prober.dial(multiaddr(relayedAddr), { signal })
    await conn.close().catch(() => {})
    return true
  } catch {
    return false
  } finally {
    try { await prober.stop() } catch {}
  }
}
