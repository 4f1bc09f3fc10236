/**
 * Shared by the real-libp2p tests: a bounded poll, and the connection limits
 * that let many nodes on one loopback host dial each other at once.
 */

/** Waits until `cond()` holds, polling every `pollMs`, failing after `timeoutMs`; resolves with the time it took. */
export async function waitFor (what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 50): Promise<number> {
  const start = Date.now()
  while (!await cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, pollMs))
  }
  return Date.now() - start
}

/** libp2p's per-host inbound limits are for the Internet; on loopback every test node shares one host. */
export const LOOPBACK_LIMITS = { inboundConnectionsPerSecPerHost: 1000, maxIncomingPendingConnections: 100 }
