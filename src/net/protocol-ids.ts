/** libp2p protocol ids of swarmcdn (see docs/ARCHITECTURE.md, "Content transfer"). */

/** Piece exchange for one content id. */
export const XFER_PROTOCOL = '/swarmcdn/xfer/1.0.0'
/** Fetch a signed manifest by content id. */
export const MANIFEST_PROTOCOL = '/swarmcdn/manifest/1.0.0'
/** DHT among supernodes and seeders, and the leaf ↔ supernode tier (one request and its response per stream). */
export const DHT_PROTOCOL = '/swarmcdn/dht/1.0.0'
/** One JSON status document per stream (role, attachments, table size, items): `swarmcdn status --peer`. */
export const STATUS_PROTOCOL = '/swarmcdn/status/1.0.0'
/** Delivery reports from downloaders to origins (informative, see core/accounting/delivery-ledger.ts). */
export const DELIVERY_PROTOCOL = '/swarmcdn/delivery/1.0.0'
/** A publisher's fleet record, and "fetch this item you own from me" (origin seeders of a fleet). */
export const FLEET_PROTOCOL = '/swarmcdn/fleet/1.0.0'
