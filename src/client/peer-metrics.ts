/**
 * The Prometheus metrics of a peer or origin seeder (README, "Metrics").
 * Every value is read from the runtime's own counters when the endpoint is
 * scraped (prom-client `collect`), never pushed from the piece path: a
 * process that is not scraped does exactly the work it did without them.
 *
 * Counters that the runtime keeps as running totals are exported as
 * Prometheus counters (reset and set to the total at each scrape, which is
 * what a counter's value is); what can go down is a gauge.
 */
import { Counter, Gauge, Registry } from 'prom-client'
import { LOCALITY_CLASSES, type LocalityByteCounts } from '../core/proximity/locality.js'
import type { PeerStatus } from './peer-status.js'
import type { ServingCounts } from './swarm-peer.js'
import { DELIVERY_VERDICTS, type DeliveryLedger } from '../core/accounting/delivery-ledger.js'

/** A new prom-client registry: peer.ts loads this module, and prom-client with it, only when metrics are asked for. */
export function createMetricsRegistry (): Registry {
  return new Registry()
}

/** Metric names, in one place (README lists them). */
export const PEER_METRICS = {
  servedBytes: 'swarmcdn_served_bytes_total',
  downloadedBytes: 'swarmcdn_downloaded_bytes_total',
  xferStreams: 'swarmcdn_xfer_streams_total',
  piecesServed: 'swarmcdn_pieces_served_total',
  chokes: 'swarmcdn_upload_chokes_total',
  piecesDeclined: 'swarmcdn_upload_pieces_declined_total',
  busyItems: 'swarmcdn_busy_items_total',
  alternativeAnswers: 'swarmcdn_busy_answers_with_alternatives_total',
  alternativesNamed: 'swarmcdn_alternatives_named_total',
  slotsInUse: 'swarmcdn_upload_slots_in_use',
  slotUtilization: 'swarmcdn_upload_slot_utilization',
  requesters: 'swarmcdn_upload_requesters',
  connections: 'swarmcdn_connections',
  routingTable: 'swarmcdn_dht_routing_table_contacts',
  leaves: 'swarmcdn_supernode_leaves',
  relayReservations: 'swarmcdn_relay_reservations',
  relayedConnections: 'swarmcdn_relayed_connections',
  relayRefusals: 'swarmcdn_relay_reservations_refused_total',
  itemsStored: 'swarmcdn_items_stored',
  itemsAnnounced: 'swarmcdn_items_announced',
  role: 'swarmcdn_role',
  deliveredBytes: 'swarmcdn_delivered_bytes_total',
  deliveryReports: 'swarmcdn_delivery_reports_total'
} as const

/** What the peer metrics read at scrape time (a Peer provides all of it). */
export interface PeerMetricsSource {
  status: () => PeerStatus
  serving: () => Readonly<ServingCounts>
  gate: { unchokedCount: () => number, slotUtilization: () => number, readonly requesters: number, readonly chokesSent: number, readonly piecesDeclined: number, readonly busyTimes: number }
  connections: () => number
  /** Bytes served over HTTP by requester locality (a seeder's web seed). Default: none. */
  httpServedByLocality?: () => LocalityByteCounts
  /** Delivery reports received (origins). Default: none, and no delivery metrics. */
  deliveries?: DeliveryLedger
  /** The relay server's reservations and relayed connections now (supernodes and seeders relay for NATed leaves). Default: none, and no relay metrics. */
  relay?: () => { reservations: number, relayedConnections: number, refusedByNetwork: number }
}

type Labels = Record<string, string>

/** A counter whose value is a total kept elsewhere, read at scrape time. */
function totalCounter (registry: Registry, name: string, help: string, labelNames: string[], read: () => Array<[Labels, number]>): void {
  // eslint-disable-next-line no-new
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect () {
      this.reset()
      for (const [labels, value] of read()) this.inc(labels, value)
    }
  })
}

/** A gauge read at scrape time. */
function readGauge (registry: Registry, name: string, help: string, labelNames: string[], read: () => Array<[Labels, number]>): void {
  // eslint-disable-next-line no-new
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect () {
      this.reset()
      for (const [labels, value] of read()) this.set(labels, value)
    }
  })
}

const byLocality = (counts: LocalityByteCounts, extra: Labels = {}): Array<[Labels, number]> =>
  LOCALITY_CLASSES.map(locality => [{ ...extra, locality }, counts[locality]])

/** Registers the peer's metrics (names in PEER_METRICS) in `registry`. */
export function registerPeerMetrics (registry: Registry, src: PeerMetricsSource): void {
  // One status document per scrape, shared by the metrics that need it.
  let cached: { status: PeerStatus, atMs: number } | undefined
  const status = (): PeerStatus => {
    const now = Date.now()
    if (cached == null || now - cached.atMs > 100) cached = { status: src.status(), atMs: now }
    return cached.status
  }
  totalCounter(registry, PEER_METRICS.servedBytes, 'Piece bytes served, by protocol (libp2p, http) and the requester\'s locality class (same-as, same-prefix, other-as, unknown)', ['protocol', 'locality'], () => [
    ...byLocality(status().traffic.uploadedByLocality, { protocol: 'libp2p' }),
    ...(src.httpServedByLocality != null ? byLocality(src.httpServedByLocality(), { protocol: 'http' }) : [])
  ])
  totalCounter(registry, PEER_METRICS.downloadedBytes, 'Verified piece bytes downloaded, by the source\'s locality class', ['locality'], () => byLocality(status().traffic.downloadedByLocality))
  totalCounter(registry, PEER_METRICS.xferStreams, 'Piece-exchange streams admitted (one per requester and item)', [], () => [[{}, src.serving().streamsAdmitted]])
  totalCounter(registry, PEER_METRICS.piecesServed, 'Pieces sent over libp2p', [], () => [[{}, src.serving().piecesServed]])
  totalCounter(registry, PEER_METRICS.chokes, 'Chokes sent to requesters (slots full or item busy)', [], () => [[{}, src.gate.chokesSent]])
  totalCounter(registry, PEER_METRICS.piecesDeclined, 'Piece requests declined by the spread rule of a busy item', [], () => [[{}, src.gate.piecesDeclined]])
  totalCounter(registry, PEER_METRICS.busyItems, 'Times an item went busy (too many requesters at once)', [], () => [[{}, src.gate.busyTimes]])
  totalCounter(registry, PEER_METRICS.alternativeAnswers, 'Chokes and spread rejects that named other holders ("busy, try these peers")', [], () => [[{}, src.serving().answersWithAlternatives]])
  totalCounter(registry, PEER_METRICS.alternativesNamed, 'Holders named in busy answers, in all', [], () => [[{}, src.serving().alternativesNamed]])
  readGauge(registry, PEER_METRICS.slotsInUse, 'Requesters unchoked now (upload slots in use)', [], () => [[{}, src.gate.unchokedCount()]])
  readGauge(registry, PEER_METRICS.slotUtilization, 'Share of the upload slots in use, 0-1', [], () => [[{}, src.gate.slotUtilization()]])
  readGauge(registry, PEER_METRICS.requesters, 'Requester streams admitted now', [], () => [[{}, src.gate.requesters]])
  readGauge(registry, PEER_METRICS.connections, 'Open libp2p connections', [], () => [[{}, src.connections()]])
  readGauge(registry, PEER_METRICS.routingTable, 'Contacts in the DHT routing table (supernodes and seeders)', [], () => [[{}, status().routingTableSize]])
  readGauge(registry, PEER_METRICS.leaves, 'Leaves attached to this node (supernodes and seeders)', [], () => [[{}, status().leaves]])
  const relay = src.relay
  if (relay != null) {
    readGauge(registry, PEER_METRICS.relayReservations, 'Relay reservations this node holds for leaves behind NATs now', [], () => [[{}, relay().reservations]])
    readGauge(registry, PEER_METRICS.relayedConnections, 'Connections relayed through this node now (signalling until a direct or reverse connection takes over)', [], () => [[{}, relay().relayedConnections]])
    totalCounter(registry, PEER_METRICS.relayRefusals, 'Relay reservations refused since start because the requester\'s network (/24, /48) already held its share', ['reason'], () => [[{ reason: 'network-limit' }, relay().refusedByNetwork]])
  }
  readGauge(registry, PEER_METRICS.itemsStored, 'Items in the content store', [], () => [[{}, status().items]])
  readGauge(registry, PEER_METRICS.itemsAnnounced, 'Items this node announces in the overlay', [], () => [[{}, status().itemsHeld]])
  const deliveries = src.deliveries
  if (deliveries != null) {
    totalCounter(registry, PEER_METRICS.deliveredBytes, 'Bytes downloaders reported receiving for completed items, by source kind (origin, peer) and locality class as the downloader classified it; informative, not proof', ['source', 'locality'], () => [
      ...byLocality(deliveries.origin, { source: 'origin' }),
      ...byLocality(deliveries.peer, { source: 'peer' })
    ])
    totalCounter(registry, PEER_METRICS.deliveryReports, 'Delivery reports received, by verdict (accepted, duplicate, rate-limited, invalid, unknown-item)', ['verdict'], () =>
      DELIVERY_VERDICTS.map(verdict => [{ verdict }, deliveries.verdicts[verdict]]))
  }
  readGauge(registry, PEER_METRICS.role, 'This node\'s overlay role (1 for the current one)', ['role'], () => [[{ role: status().role }, 1]])
}
