/**
 * The status document of a peer: what `/swarmcdn/status/1.0.0` answers,
 * `swarmcdn status` prints and the peer metrics read.
 */
import type { OverlayStatus } from '../net/overlay-service.js'
import type { SwarmItemStats, SwarmTraffic } from './swarm-peer.js'

/** The status document of a peer (`/swarmcdn/status/1.0.0`, `swarmcdn status`). */
export interface PeerStatus extends OverlayStatus {
  /** Items in the store. */
  items: number
  /** Bytes up, and down by source kind (peers vs origin seeders). */
  traffic: SwarmTraffic
  /** Items held or downloading, with the peers involved (at most MAX_STATS_ITEMS). */
  swarm: SwarmItemStats[]
}
