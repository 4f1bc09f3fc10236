/**
 * What the xfer and manifest protocol handlers serve from: a ContentStore
 * (whole items) fits as is; a peer holding part of an item implements
 * `bitfield` too.
 */
import type { ContentId } from '../core/content/content-id.js'
import type { VerifiedManifest } from '../core/content/manifest.js'
import type { Bitfield } from '../core/swarm/bitfield.js'

/** A source of manifests and verified pieces. */
export interface ContentProvider {
  /** True when some of the item's pieces (and its manifest) are held. */
  has: (id: ContentId) => boolean
  /** The item's verified manifest, or undefined. */
  manifest: (id: ContentId) => VerifiedManifest | undefined
  /** Bytes of a held piece (already verified when stored). */
  readPiece: (id: ContentId, index: number) => Promise<Uint8Array>
  /** Pieces held; omitted means every piece (a complete item). */
  bitfield?: (id: ContentId) => Bitfield | undefined
  /**
   * Calls `onHave` for every piece of the item that becomes held from now
   * on (a download in progress); returns the unsubscribe function.
   * Omitted means the held set never grows.
   */
  watch?: (id: ContentId, onHave: (index: number) => void) => () => void
}
