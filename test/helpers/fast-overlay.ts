import type { OverlayInit } from '../../src/net/overlay-service.js'

/** Small overlay timers so recovery takes seconds: keep-alive 2 s, request timeout 3 s (a loaded CI machine stalls for over a second), provider records count 200 ms into a connection (default 10 s). */
export const FAST_OVERLAY: OverlayInit = {
  requestTimeoutMs: 3000,
  keepAliveIntervalMs: 2000,
  refreshIntervalMs: 1000,
  attachWaitMs: 5000,
  // Tests host many peers in one process: its event-loop lag is everyone's, not one supernode's load.
  overloadEventLoopLagMs: 60_000,
  providerAdmission: { minConnectionAgeMs: 200 },
  leaf: { reattachJitterMs: 300, backoffBaseMs: 200, backoffMaxMs: 1000, selfPromoteIntervalMs: 1000 }
}
