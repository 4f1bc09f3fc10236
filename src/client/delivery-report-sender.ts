/**
 * Sends a download's delivery report to the first origin that answers,
 * from a list in the order to try (OriginFailover.reportOrder for a fleet;
 * the origins the download met otherwise). Any verdict is an answer, a
 * refusal included: only a target that could not be reached or did not
 * answer in time moves the report on to the next, and at most
 * MAX_DELIVERY_REPORT_TARGETS are tried, so a report costs at most that
 * many times DEFAULT_DELIVERY_TIMEOUT_MS.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { DeliveryReport, DeliveryVerdict } from '../core/accounting/delivery-ledger.js'
import { sendDeliveryReport, DEFAULT_DELIVERY_TIMEOUT_MS } from '../net/delivery-protocol.js'
import type { SwarmNode } from '../net/swarm-node.js'

/** Origins a report is offered to at most (a fleet's default replication is 2: both owners of the item). */
export const MAX_DELIVERY_REPORT_TARGETS = 2

/** Options of sendDeliveryReportToFirst. */
export interface DeliveryReportSendInit {
  /** Stops trying. */
  signal?: AbortSignal
  /** Targets tried at most. Default MAX_DELIVERY_REPORT_TARGETS (2). */
  maxTargets?: number
  /** Time for one target, ms. Default DEFAULT_DELIVERY_TIMEOUT_MS (5 s). */
  timeoutMs?: number
}

/** The verdict of the first of `targets` (multiaddrs with /p2p/) that answered, or undefined when none did. */
export async function sendDeliveryReportToFirst (node: SwarmNode, targets: readonly string[], report: DeliveryReport, init: DeliveryReportSendInit = {}): Promise<DeliveryVerdict | undefined> {
  const maxTargets = init.maxTargets ?? MAX_DELIVERY_REPORT_TARGETS
  for (const target of targets.slice(0, maxTargets)) {
    if (init.signal?.aborted === true) return undefined
    try {
      return await sendDeliveryReport(node, multiaddr(target), report, { signal: init.signal, timeoutMs: init.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS })
    } catch {}
  }
  return undefined
}
