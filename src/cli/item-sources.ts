/**
 * The item a command downloads and where from, shared by `get`, `stream`,
 * `peer --get` and `link`: a content id or a shareable link
 * (src/client/share-link.ts) in place of it, plus `--peer` and
 * `--web-seed`. A link's sources are merged with the flags, as if each had
 * been given as its flag (`peer=` as --peer, `bootstrap=` as --bootstrap,
 * `ws=` as --web-seed).
 */
import { type Command, InvalidArgumentError, Option } from 'commander'
import { parseContentId, type ContentId } from '../core/content/content-id.js'
import { looksLikeShareLink, parseShareLink, ShareLinkError, webSeedItemUrl } from '../client/share-link.js'
import { parsePeerMultiaddr } from './parse-options.js'

/** Help text of the item argument. */
export const ITEM_ARGUMENT_HELP = 'the content id printed by swarmcdn publish, or a swarmcdn:?xt=... link from swarmcdn link'

/** The flags item sources come from. */
export interface SourceCliOptions {
  peer: string[]
  webSeed: string[]
}

/** An item and its sources, merged from a link and the flags, de-duplicated. */
export interface ItemSources {
  contentId: ContentId
  /** Peers to download from directly (multiaddrs). */
  peers: string[]
  /** Overlay members the link names (to add to --bootstrap). */
  bootstrap: string[]
  /** Web seed item URLs, `BASE/c/CONTENT_ID`. */
  webSeeds: string[]
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Checks a --web-seed value is an http(s) URL (its id is checked against the item once that is known). */
function parseWebSeedUrl (text: string, previous: string[] | undefined): string[] {
  let ok = false
  try { ok = ['http:', 'https:'].includes(new URL(text).protocol) } catch {}
  if (!ok) throw new InvalidArgumentError(`not an http(s) URL: ${text} (e.g. http://203.0.113.7:8080)`)
  return collect(text, previous)
}

/** Adds --peer (described by `peerHelp`) and --web-seed to `cmd`. */
export function addSourceOptions (cmd: Command, peerHelp: string): Command {
  return cmd
    .addOption(new Option('--peer <multiaddr>', peerHelp).argParser(parsePeerMultiaddr).default([]))
    .addOption(new Option('--web-seed <url>', 'an HTTP web seed of the item (swarmcdn seed --http): its base URL or BASE/c/CONTENT_ID (repeatable)').argParser(parseWebSeedUrl).default([]))
}

/** The content id of an item argument (a content id or a link); throws InvalidContentIdError or ShareLinkError. */
export function contentIdOfItem (text: string): ContentId {
  return looksLikeShareLink(text) ? parseShareLink(text).contentId : parseContentId(text)
}

/**
 * The item named by `text` (a content id or a link) and its sources: the
 * link's and `flags`'. Throws InvalidContentIdError or ShareLinkError (a
 * bad link, or a --web-seed URL of another item).
 */
export function itemSources (text: string, flags: Partial<SourceCliOptions> = {}): ItemSources {
  const link = looksLikeShareLink(text) ? parseShareLink(text) : undefined
  const contentId = link?.contentId ?? parseContentId(text)
  let webSeeds: string[]
  try {
    webSeeds = (flags.webSeed ?? []).map(u => webSeedItemUrl(u, contentId))
  } catch (err) {
    throw new ShareLinkError(`--web-seed: ${(err as Error).message}`)
  }
  return {
    contentId,
    peers: [...new Set([...(link?.peers ?? []), ...(flags.peer ?? [])])],
    bootstrap: link?.bootstrap ?? [],
    webSeeds: [...new Set([...(link?.webSeeds ?? []), ...webSeeds])]
  }
}
