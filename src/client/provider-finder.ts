/**
 * What a download asks of wherever its providers come from (the overlay's
 * findProviders, a fleet record, a static list): the holders of an item.
 */
import type { ContentId } from '../core/content/content-id.js'

/** One holder of an item, as a provider finder reports it. */
export interface ProviderInfo {
  /** libp2p peer id. */
  peerId: string
  /** Dialable multiaddrs (with or without /p2p/PEER_ID). */
  multiaddrs: string[]
  /** A publisher's origin seeder (fallback source), as it announced itself (a provider record's origin flag). Default false. */
  isOrigin?: boolean
}

/** Finds holders of an item: the overlay's `findProviders`, or a static list. */
export type ProviderFinder = (contentId: ContentId, options: { signal?: AbortSignal }) => Promise<ProviderInfo[]>
