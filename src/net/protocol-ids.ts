/** libp2p protocol ids of swarmcdn (see docs/ARCHITECTURE.md, "Content transfer"). */

/** Piece exchange for one content id. */
export const XFER_PROTOCOL = '/swarmcdn/xfer/1.0.0'
/** Fetch a signed manifest by content id. */
export const MANIFEST_PROTOCOL = '/swarmcdn/manifest/1.0.0'
