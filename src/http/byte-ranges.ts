/**
 * HTTP byte ranges (RFC 9110 §14), decided without I/O: given a `Range`
 * header and the length N of the representation, say what to send.
 *
 * Rules (section numbers are RFC 9110):
 * - Only the `bytes` unit is understood, compared case-insensitively
 *   (§14.1). Any other unit, or any syntax error, means the header is
 *   ignored and the whole item is sent with 200 (§14.2: a server MAY ignore
 *   Range). `bytes=5-2` (last-pos < first-pos) is invalid (§14.1.1), so it
 *   is ignored too — not a 416.
 * - `bytes=a-b` is clamped to N-1 (§14.1.2); `bytes=a-` runs to the end;
 *   `bytes=-n` is the last n bytes, or the whole item if n ≥ N (§14.1.3),
 *   still answered with 206.
 * - Unsatisfiable (§14.1.1): an int-range with first-pos ≥ N, or a suffix
 *   of length 0 → 416 with `Content-Range: bytes * /N` (§15.5.17;
 *   written here with a space only because star-slash ends a comment). For a
 *   zero-length item every int-range is unsatisfiable; a non-zero suffix
 *   range is "satisfiable" by the RFC's definition but no 206 can describe
 *   an empty part, so it gets the whole (empty) item with 200.
 * - Several ranges (`bytes=0-1,5-6`): we never build multipart/byteranges;
 *   the header is ignored and the whole item is sent with 200, which §14.2
 *   allows. Media players and download tools send one range. (Sending just
 *   the first range as a 206 would look like an answer to a question the
 *   client did not ask.) Empty list elements (`bytes=0-1,`) are dropped as
 *   §5.6.1 says, so they do not make a list "multiple".
 * - Numbers are parsed exactly (BigInt), so a first-pos of 10^40 is
 *   unsatisfiable and a last-pos of 10^40 is clamped, never rounded.
 * - Whitespace: optional whitespace around list elements and around the
 *   whole value is accepted (§5.6.1, §5.5); whitespace inside a range-spec
 *   (`bytes = 0-1`, `bytes=0 - 1`) is not in the grammar, so the header is
 *   ignored.
 */

/** What to send for a request: the whole item (200), one part (206) or nothing (416). */
export type ByteRange =
  | { readonly kind: 'whole', readonly start: 0, readonly endInclusive: number }
  | { readonly kind: 'partial', readonly start: number, readonly endInclusive: number }
  | { readonly kind: 'unsatisfiable' }

/** A Range value longer than this is ignored (node already caps all headers at 16 KiB). */
const MAX_RANGE_HEADER_CHARS = 4096

const DIGITS = /^[0-9]+$/
const RANGE_UNIT = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)=(.*)$/s

/** The whole item: bytes 0 to N-1 (endInclusive is -1 for an empty item). */
export function wholeRange (lengthBytes: number): ByteRange {
  return { kind: 'whole', start: 0, endInclusive: lengthBytes - 1 }
}

/**
 * Decides what to send for a `Range` header value (undefined when absent)
 * on a representation of `lengthBytes` bytes; see the module comment for
 * the rules. Throws RangeError if `lengthBytes` is not a safe non-negative
 * integer (our own misuse, not the client's).
 */
export function resolveByteRange (rangeHeader: string | undefined, lengthBytes: number): ByteRange {
  if (!Number.isSafeInteger(lengthBytes) || lengthBytes < 0) throw new RangeError(`lengthBytes must be a non-negative safe integer, got ${lengthBytes}`)
  if (rangeHeader == null || rangeHeader.length > MAX_RANGE_HEADER_CHARS) return wholeRange(lengthBytes)
  const m = RANGE_UNIT.exec(rangeHeader.trim())
  if (m == null || m[1].toLowerCase() !== 'bytes') return wholeRange(lengthBytes)
  const specs = m[2].split(',').map(s => s.replace(/^[ \t]+|[ \t]+$/g, '')).filter(s => s.length > 0)
  if (specs.length !== 1) return wholeRange(lengthBytes)
  const spec = specs[0]
  const dash = spec.indexOf('-')
  if (dash < 0) return wholeRange(lengthBytes)
  const firstText = spec.slice(0, dash)
  const lastText = spec.slice(dash + 1)
  const n = BigInt(lengthBytes)

  if (firstText === '') {
    // suffix-range = "-" suffix-length
    if (!DIGITS.test(lastText)) return wholeRange(lengthBytes)
    const suffix = BigInt(lastText)
    if (suffix === 0n) return { kind: 'unsatisfiable' }
    if (lengthBytes === 0) return wholeRange(0)
    const start = suffix >= n ? 0 : lengthBytes - Number(suffix)
    return { kind: 'partial', start, endInclusive: lengthBytes - 1 }
  }

  // int-range = first-pos "-" [ last-pos ]
  if (!DIGITS.test(firstText) || (lastText !== '' && !DIGITS.test(lastText))) return wholeRange(lengthBytes)
  const first = BigInt(firstText)
  const last = lastText === '' ? undefined : BigInt(lastText)
  if (last !== undefined && last < first) return wholeRange(lengthBytes)
  if (first >= n) return { kind: 'unsatisfiable' }
  const end = last === undefined || last >= n ? lengthBytes - 1 : Number(last)
  return { kind: 'partial', start: Number(first), endInclusive: end }
}

/** The `Content-Range` value for a 206 (`bytes a-b/N`) or a 416 (`bytes * /N`, no space); undefined for a whole-item 200. */
export function contentRangeHeader (range: ByteRange, lengthBytes: number): string | undefined {
  switch (range.kind) {
    case 'partial': return `bytes ${range.start}-${range.endInclusive}/${lengthBytes}`
    case 'unsatisfiable': return `bytes */${lengthBytes}`
    case 'whole': return undefined
  }
}

/** Number of body bytes a range covers (0 for unsatisfiable). */
export function rangeLengthBytes (range: ByteRange): number {
  return range.kind === 'unsatisfiable' ? 0 : range.endInclusive - range.start + 1
}

/** Splits an entity-tag list header (If-None-Match) into its tags; `*` stays `*`. */
function entityTags (header: string): string[] {
  return header.split(',').map(s => s.trim()).filter(s => s.length > 0)
}

/**
 * RFC 9110 §13.1.5: a Range is honoured only if If-Range is absent or
 * strongly matches the current strong ETag. A date validator never matches
 * here, because we send no Last-Modified (content-addressed items have none
 * worth sending), so the whole item is sent — the safe answer.
 */
export function ifRangeAllowsPartial (ifRangeHeader: string | undefined, strongEtag: string | undefined): boolean {
  if (ifRangeHeader == null) return true
  const v = ifRangeHeader.trim()
  if (strongEtag == null || v.startsWith('W/')) return false
  return v === strongEtag
}

/** RFC 9110 §13.1.2: true when If-None-Match (weak comparison) matches the ETag, so a GET/HEAD gets 304. */
export function ifNoneMatchMatches (ifNoneMatchHeader: string | undefined, etag: string | undefined): boolean {
  if (ifNoneMatchHeader == null || etag == null) return false
  const bare = etag.replace(/^W\//, '')
  return entityTags(ifNoneMatchHeader).some(t => t === '*' || t.replace(/^W\//, '') === bare)
}
