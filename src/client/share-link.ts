/**
 * A shareable link: one URI that names an item and the ways to reach it,
 * in the style of a BitTorrent magnet link (BEP 9, BEP 19):
 *
 *   swarmcdn:?xt=urn:swarmcdn:CONTENT_ID&peer=MULTIADDR&bootstrap=MULTIADDR&ws=URL
 *
 * Rules:
 * - `xt` exactly once: the content id. It names one signed manifest, so a
 *   link cannot make a client accept other bytes; the rest are only hints
 *   of where to ask.
 * - `peer` (repeatable): a peer that holds the item, downloaded from
 *   directly (like `get --peer`). `bootstrap` (repeatable): an overlay
 *   member to join through, which then finds holders (like `--bootstrap`).
 *   Both must name their peer id (`.../p2p/12D3KooW...`): a link is read
 *   by someone who cannot ask the sender which peer they meant.
 * - `ws` (repeatable): an HTTP(S) web seed URL of the item,
 *   `BASE/c/CONTENT_ID`, with the id of `xt` (any HTTP client can fetch it;
 *   its manifest is at `BASE/c/CONTENT_ID/manifest`).
 * - Values are percent-encoded; keys starting with `x.` are extensions and
 *   ignored; any other key, a repeated `xt`, an empty value or more than
 *   MAX_LINK_SOURCES sources is a ShareLinkError, with one line saying why.
 * - At least one source (peer, bootstrap or ws): a bare id is not a link.
 *
 * Pure: no I/O, so the CLI and tests share one reading of the format.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { parseContentId, type ContentId } from '../core/content/content-id.js'

/** The URI scheme of a link, with its separator. */
export const SHARE_LINK_PREFIX = 'swarmcdn:?'
/** The namespace of `xt`'s URN. */
const XT_PREFIX = 'urn:swarmcdn:'
/** Longest link accepted, characters (a link travels in chat messages and command lines). */
export const MAX_LINK_CHARS = 8192
/** Sources of all kinds one link may carry. */
export const MAX_LINK_SOURCES = 32

/** A link that does not follow the format; the message says what is wrong. */
export class ShareLinkError extends Error {
  override name = 'ShareLinkError'
  readonly code = 'ERR_BAD_SHARE_LINK'
}

/** What a link holds. */
export interface ShareLink {
  contentId: ContentId
  /** Peers holding the item, multiaddrs ending in /p2p/PEER_ID. */
  peers: string[]
  /** Overlay members to join through, multiaddrs ending in /p2p/PEER_ID. */
  bootstrap: string[]
  /** Web seed URLs of the item, `BASE/c/CONTENT_ID`. */
  webSeeds: string[]
}

/** True when `text` is meant as a link (starts with the scheme), whether or not it is a valid one. */
export function looksLikeShareLink (text: string): boolean {
  return text.trim().toLowerCase().startsWith('swarmcdn:')
}

/** The link's text: `xt` first, then peers, bootstrap members and web seeds in the order given. Throws ShareLinkError for a source that would not parse back. */
export function formatShareLink (link: ShareLink): string {
  const checked = checkLink(link)
  const parts = [`xt=${XT_PREFIX}${checked.contentId}`]
  for (const p of checked.peers) parts.push(`peer=${encodeValue(p)}`)
  for (const b of checked.bootstrap) parts.push(`bootstrap=${encodeValue(b)}`)
  for (const w of checked.webSeeds) parts.push(`ws=${encodeValue(w)}`)
  const text = SHARE_LINK_PREFIX + parts.join('&')
  if (text.length > MAX_LINK_CHARS) throw new ShareLinkError(`the link would be ${text.length} characters, over ${MAX_LINK_CHARS}: give fewer sources`)
  return text
}

/** Reads a link (see the rules above); throws ShareLinkError. */
export function parseShareLink (text: string): ShareLink {
  const trimmed = text.trim()
  if (trimmed.length > MAX_LINK_CHARS) throw new ShareLinkError(`link is ${trimmed.length} characters, over ${MAX_LINK_CHARS}`)
  if (!trimmed.toLowerCase().startsWith(SHARE_LINK_PREFIX)) throw new ShareLinkError(`not a swarmcdn link: expected it to start with ${SHARE_LINK_PREFIX}`)
  const query = trimmed.slice(SHARE_LINK_PREFIX.length)
  let contentId: ContentId | undefined
  const link: ShareLink = { contentId: '', peers: [], bootstrap: [], webSeeds: [] }
  for (const pair of query.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new ShareLinkError(`bad link parameter "${clip(pair)}": expected key=value`)
    const key = pair.slice(0, eq)
    const value = decodeValue(key, pair.slice(eq + 1))
    if (key.startsWith('x.')) continue
    if (key === 'xt') {
      if (contentId != null) throw new ShareLinkError('link has more than one xt (content id)')
      if (!value.startsWith(XT_PREFIX)) throw new ShareLinkError(`link xt must be ${XT_PREFIX}CONTENT_ID, got "${clip(value)}"`)
      contentId = parseId(value.slice(XT_PREFIX.length))
    } else if (key === 'peer') {
      link.peers.push(value)
    } else if (key === 'bootstrap') {
      link.bootstrap.push(value)
    } else if (key === 'ws') {
      link.webSeeds.push(value)
    } else {
      throw new ShareLinkError(`unknown link parameter "${clip(key)}" (known: xt, peer, bootstrap, ws; extensions start with x.)`)
    }
  }
  if (contentId == null) throw new ShareLinkError('link has no xt=urn:swarmcdn:CONTENT_ID')
  return checkLink({ ...link, contentId })
}

/**
 * The web seed URL of `contentId` from what a user typed: a server's base
 * (`http://host:8080`, `http://host:8080/prefix`) or the item's own URL
 * (`BASE/c/ID`, `BASE/c/ID/NAME`). Throws ShareLinkError for anything
 * else, or an item URL of another id.
 */
export function webSeedItemUrl (text: string, contentId: ContentId): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new ShareLinkError(`not a web seed URL: "${clip(text)}" (e.g. http://203.0.113.7:8080)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ShareLinkError(`web seed URL must be http or https: "${clip(text)}"`)
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') throw new ShareLinkError(`web seed URL must not have a query, fragment or credentials: "${clip(text)}"`)
  const segments = url.pathname.split('/').filter(s => s !== '')
  const c = segments.lastIndexOf('c')
  // BASE/c/ID or BASE/c/ID/NAME: the item's own URL.
  if (c >= 0 && (c === segments.length - 2 || c === segments.length - 3)) {
    const id = decodeURIComponent(segments[c + 1])
    if (id !== contentId) throw new ShareLinkError(`web seed URL names item ${clip(id)}, not ${contentId}`)
    segments.length = c
  }
  url.pathname = [...segments, 'c', contentId].map(s => '/' + s).join('')
  return url.toString()
}

/** The URL of the signed manifest next to a web seed item URL from webSeedItemUrl. */
export function webSeedManifestUrl (itemUrl: string): string {
  return `${itemUrl}/manifest`
}

function checkLink (link: ShareLink): ShareLink {
  const contentId = parseId(link.contentId)
  const sources = link.peers.length + link.bootstrap.length + link.webSeeds.length
  if (sources === 0) throw new ShareLinkError('link names no source: it needs at least one peer, bootstrap or ws')
  if (sources > MAX_LINK_SOURCES) throw new ShareLinkError(`link names ${sources} sources, over ${MAX_LINK_SOURCES}`)
  return {
    contentId,
    peers: unique(link.peers.map(p => checkPeerAddr('peer', p))),
    bootstrap: unique(link.bootstrap.map(b => checkPeerAddr('bootstrap', b))),
    webSeeds: unique(link.webSeeds.map(w => webSeedItemUrl(w, contentId)))
  }
}

function parseId (text: string): ContentId {
  try {
    return parseContentId(text)
  } catch (err) {
    throw new ShareLinkError(`link content id "${clip(text)}" is not valid: ${(err as Error).message}`)
  }
}

/** A multiaddr that names its peer id, as text. */
function checkPeerAddr (key: string, text: string): string {
  let ok = false
  try {
    ok = multiaddr(text).getComponents().findLast(c => c.name === 'p2p')?.value != null
  } catch {
    throw new ShareLinkError(`link ${key} "${clip(text)}" is not a multiaddr`)
  }
  if (!ok) throw new ShareLinkError(`link ${key} "${clip(text)}" does not name its peer id (end it in /p2p/PEER_ID)`)
  return text
}

/** Percent-encodes what would break the query (`&`, `=`, `%`, spaces, non-ASCII); keeps `/` and `:` readable. */
function encodeValue (value: string): string {
  return encodeURIComponent(value).replace(/%2F/gi, '/').replace(/%3A/gi, ':')
}

function decodeValue (key: string, raw: string): string {
  let value: string
  try {
    value = decodeURIComponent(raw)
  } catch {
    throw new ShareLinkError(`link ${clip(key)} has a bad percent-encoding: "${clip(raw)}"`)
  }
  if (value === '') throw new ShareLinkError(`link ${clip(key)} is empty`)
  return value
}

function unique (values: string[]): string[] {
  return [...new Set(values)]
}

/** A piece of user input short enough for a one-line error. */
function clip (text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}
