import type { OverlayInit } from '../../src/net/overlay-service.js'

/**
 * Small overlay timers so recovery takes seconds: keep-alive 3 s, request
 * timeout 8 s, provider records count 200 ms into a connection (default
 * 10 s). The request timeout is for a loaded CI machine: with 31 peers in
 * one process at load 12 on 2 cores, one DHT round trip (a few event-loop
 * turns on each side, each stalled up to 2 s) took over 3 s, and a 3 s
 * timeout detached most leaves at once; at 8 s all 24 attached and none
 * was dropped. Killed supernodes are still noticed at once (their
 * connections close).
 */
export const FAST_OVERLAY: OverlayInit = {
  requestTimeoutMs: 8000,
  keepAliveIntervalMs: 3000,
  refreshIntervalMs: 1000,
  attachWaitMs: 5000,
  // Tests host many peers in one process: its event-loop lag is everyone's, not one supernode's load.
  overloadEventLoopLagMs: 60_000,
  providerAdmission: { minConnectionAgeMs: 200 },
  leaf: { reattachJitterMs: 300, backoffBaseMs: 200, backoffMaxMs: 1000, selfPromoteIntervalMs: 1000 }
}
