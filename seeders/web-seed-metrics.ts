/**
 * Bandwidth a web seed has served, per item: kept as plain numbers for
 * tests and the CLI, and as prom-client counters for a metrics endpoint.
 */
import { Counter, Registry } from 'prom-client'
import type { ContentId } from '../src/core/content/content-id.js'
import { emptyLocalityBytes } from '../src/core/proximity/locality.js'

/** Which route the bytes went out on. */
export type WebSeedRoute = 'data' | 'manifest'

/** Name of the prom-client counter of body bytes served, labelled content_id and route. */
export const WEBSEED_BYTES_METRIC = 'swarmcdn_webseed_bytes_total'
/** Name of the prom-client counter of responses, labelled status. */
export const WEBSEED_RESPONSES_METRIC = 'swarmcdn_webseed_responses_total'

/** Per-item byte counts and response counts of one web seed. */
export class WebSeedMetrics {
  private readonly bytes = new Map<ContentId, { data: number, manifest: number }>()
  private readonly bytesCounter: Counter<'content_id' | 'route'>
  private readonly responsesCounter: Counter<'status'>
  /** Item body bytes (not manifests) by the client's locality class; exported by the seeder's metrics as swarmcdn_served_bytes_total{protocol="http"}. */
  readonly bytesByLocality = emptyLocalityBytes()

  /** Registers (or reuses) the counters in `registry`. */
  constructor (readonly registry: Registry = new Registry()) {
    this.bytesCounter = (registry.getSingleMetric(WEBSEED_BYTES_METRIC) as Counter<'content_id' | 'route'> | undefined) ??
      new Counter({ name: WEBSEED_BYTES_METRIC, help: 'Body bytes the HTTP web seed wrote, by item and route', labelNames: ['content_id', 'route'], registers: [registry] })
    this.responsesCounter = (registry.getSingleMetric(WEBSEED_RESPONSES_METRIC) as Counter<'status'> | undefined) ??
      new Counter({ name: WEBSEED_RESPONSES_METRIC, help: 'HTTP web seed responses, by status', labelNames: ['status'], registers: [registry] })
  }

  /** Records `n` body bytes sent for an item. Only ids the store holds reach here, so the map is bounded by the catalog. */
  addBytes (id: ContentId, route: WebSeedRoute, n: number): void {
    let entry = this.bytes.get(id)
    if (entry == null) {
      entry = { data: 0, manifest: 0 }
      this.bytes.set(id, entry)
    }
    entry[route] += n
    this.bytesCounter.inc({ content_id: id, route }, n)
  }

  /** Records one response status. */
  addResponse (status: number): void {
    this.responsesCounter.inc({ status: String(status) })
  }

  /** Body bytes served for one item (data + manifest), or for all items when no id is given. */
  bytesServed (id?: ContentId): number {
    if (id != null) {
      const e = this.bytes.get(id)
      return e == null ? 0 : e.data + e.manifest
    }
    let total = 0
    for (const e of this.bytes.values()) total += e.data + e.manifest
    return total
  }

  /** A copy of the per-item counts. */
  snapshot (): Array<{ contentId: ContentId, dataBytes: number, manifestBytes: number }> {
    return [...this.bytes].map(([contentId, e]) => ({ contentId, dataBytes: e.data, manifestBytes: e.manifest }))
  }
}
