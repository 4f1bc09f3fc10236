/**
 * A fleet seeder's metrics, read at scrape time like the peer's: the
 * record it holds and how many of its store's items it owns under it.
 */
import { Gauge, type Registry } from 'prom-client'
import type { FleetMembership } from '../src/core/fleet/fleet-membership.js'
import type { ContentStore } from '../src/store/content-store.js'

/** Metric names (README lists them). */
export const FLEET_METRICS = {
  sequence: 'swarmcdn_fleet_record_sequence',
  items: 'swarmcdn_fleet_items'
} as const

/** Registers the fleet gauges on `registry`. */
export function registerFleetMetrics (registry: Registry, membership: FleetMembership, store: ContentStore): void {
  // eslint-disable-next-line no-new
  new Gauge({
    name: FLEET_METRICS.sequence,
    help: 'Sequence number of the fleet record this seeder holds',
    registers: [registry],
    collect () { this.set(membership.record.sequence) }
  })
  // eslint-disable-next-line no-new
  new Gauge({
    name: FLEET_METRICS.items,
    help: 'Store items by whether this seeder owns them under its fleet record (not owned: kept on disk, not announced)',
    labelNames: ['owned'],
    registers: [registry],
    collect () {
      const ids = store.list()
      const owned = ids.filter(id => membership.owns(id)).length
      this.set({ owned: 'true' }, owned)
      this.set({ owned: 'false' }, ids.length - owned)
    }
  })
}
