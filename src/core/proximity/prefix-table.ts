/**
 * An address-range → AS number table in sorted typed arrays.
 *
 * Rules: after build() the ranges of each family are disjoint and sorted, so
 * a lookup is one bisection (about 19 steps for the 410 k IPv4 ranges of a
 * full RouteViews table) with no allocation. Where input ranges nest (CAIDA
 * announces a /16 and a /24 inside it), the MOST SPECIFIC range wins for the
 * addresses it covers and the outer range keeps the rest, as in IP routing
 * (longest-prefix match). Two identical ranges: the one added last wins.
 * Ranges that overlap without nesting: the one starting later wins the
 * overlap (the real @ip-location-db/asn table has one such pair, at
 * 214.95.0.0-215.0.255.255 / 215.0.0.0-215.1.3.255). Organisation names
 * are stored once each in a string array indexed by a Uint32Array. AS number
 * 0 means "no AS" (RFC 7607 reserves AS 0 for unannounced space).
 */
import { type IpAddress, ipFromBigInt, ipFromWords, ipv4FromNumber, ipToBigInt, prefixRange } from './ip-address.js'
import { PrefixTableFormatError } from './prefix-table-format-error.js'

/** AS number meaning "not covered by the table". */
export const NO_ASN = 0

/** What the table says about one address. */
export interface AsnRecord {
  /** AS number of the range. */
  readonly asn: number
  /** Organisation holding the AS ('' when the table has none, e.g. CAIDA). */
  readonly org: string
  /** First address of the (flattened) range the address fell in. */
  readonly first: IpAddress
  /** Last address of that range. */
  readonly last: IpAddress
}

/** An immutable, searchable prefix table; build it with PrefixTableBuilder. */
export class PrefixTable {
  /** IPv4 range starts, ascending. */
  private readonly v4Starts: Uint32Array
  /** IPv4 range ends (inclusive). */
  private readonly v4Ends: Uint32Array
  /** IPv6 range starts, four words per range, ascending. */
  private readonly v6Starts: Uint32Array
  /** IPv6 range ends, four words per range. */
  private readonly v6Ends: Uint32Array
  /** AS number per range: IPv4 ranges first, then IPv6. */
  private readonly asns: Uint32Array
  /** Index into `orgs` per range. */
  private readonly orgIndex: Uint32Array
  /** Distinct organisation names. */
  private readonly orgs: readonly string[]
  /** Labels of the inputs the table was built from (file names). */
  readonly sources: readonly string[]

  /** Use PrefixTableBuilder; this constructor takes already flattened arrays. */
  constructor (parts: { v4Starts: Uint32Array, v4Ends: Uint32Array, v6Starts: Uint32Array, v6Ends: Uint32Array, asns: Uint32Array, orgIndex: Uint32Array, orgs: readonly string[], sources: readonly string[] }) {
    this.v4Starts = parts.v4Starts
    this.v4Ends = parts.v4Ends
    this.v6Starts = parts.v6Starts
    this.v6Ends = parts.v6Ends
    this.asns = parts.asns
    this.orgIndex = parts.orgIndex
    this.orgs = parts.orgs
    this.sources = parts.sources
  }

  /** A table that covers nothing. */
  static empty (): PrefixTable {
    return new PrefixTableBuilder().build()
  }

  /** Number of IPv4 ranges. */
  get v4RangeCount (): number { return this.v4Starts.length }
  /** Number of IPv6 ranges. */
  get v6RangeCount (): number { return this.v6Starts.length >>> 2 }
  /** Number of ranges of both families. */
  get rangeCount (): number { return this.asns.length }
  /** Number of distinct organisation names. */
  get orgCount (): number { return this.orgs.length }
  /** Bytes held in typed arrays (strings not counted). */
  get typedArrayBytes (): number {
    return this.v4Starts.byteLength + this.v4Ends.byteLength + this.v6Starts.byteLength + this.v6Ends.byteLength + this.asns.byteLength + this.orgIndex.byteLength
  }

  /** Range index of an IPv4 address given as an unsigned 32-bit value, or -1. */
  indexOfV4 (value: number): number {
    const starts = this.v4Starts
    let lo = 0
    let hi = starts.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (starts[mid] <= value) lo = mid + 1
      else hi = mid
    }
    const i = lo - 1
    return (i >= 0 && this.v4Ends[i] >= value) ? i : -1
  }

  /** Range index of an IPv6 address given as four words, or -1. */
  indexOfV6 (w0: number, w1: number, w2: number, w3: number): number {
    const s = this.v6Starts
    let lo = 0
    let hi = s.length >>> 2
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const k = mid << 2
      // "start <= address", word by word
      let le: boolean
      if (s[k] !== w0) le = s[k] < w0
      else if (s[k + 1] !== w1) le = s[k + 1] < w1
      else if (s[k + 2] !== w2) le = s[k + 2] < w2
      else le = s[k + 3] <= w3
      if (le) lo = mid + 1
      else hi = mid
    }
    const i = lo - 1
    if (i < 0) return -1
    const e = this.v6Ends
    const k = i << 2
    let ge: boolean
    if (e[k] !== w0) ge = e[k] > w0
    else if (e[k + 1] !== w1) ge = e[k + 1] > w1
    else if (e[k + 2] !== w2) ge = e[k + 2] > w2
    else ge = e[k + 3] >= w3
    return ge ? this.v4Starts.length + i : -1
  }

  /** Range index of an address, or -1 when no range covers it. */
  indexOf (a: IpAddress): number {
    return a.family === 4 ? this.indexOfV4(a.w3) : this.indexOfV6(a.w0, a.w1, a.w2, a.w3)
  }

  /** AS number of an address, or NO_ASN (0). */
  asnOf (a: IpAddress): number {
    const i = this.indexOf(a)
    return i < 0 ? NO_ASN : this.asns[i]
  }

  /** AS number of range `i`. */
  asnAt (i: number): number { return this.asns[i] }

  /** Organisation of range `i`. */
  orgAt (i: number): string { return this.orgs[this.orgIndex[i]] }

  /** First and last address of range `i`. */
  rangeAt (i: number): { first: IpAddress, last: IpAddress } {
    const n4 = this.v4Starts.length
    if (i < n4) return { first: ipv4FromNumber(this.v4Starts[i]), last: ipv4FromNumber(this.v4Ends[i]) }
    const k = (i - n4) << 2
    const s = this.v6Starts
    const e = this.v6Ends
    return { first: ipFromWords(s[k], s[k + 1], s[k + 2], s[k + 3]), last: ipFromWords(e[k], e[k + 1], e[k + 2], e[k + 3]) }
  }

  /** Everything the table knows about an address, or undefined. */
  lookup (a: IpAddress): AsnRecord | undefined {
    const i = this.indexOf(a)
    if (i < 0) return undefined
    return { asn: this.asns[i], org: this.orgAt(i), ...this.rangeAt(i) }
  }
}

interface PendingRanges<K> {
  starts: K[]
  ends: K[]
  asns: number[]
  orgs: number[]
}

function pending<K> (): PendingRanges<K> {
  return { starts: [], ends: [], asns: [], orgs: [] }
}

/** Collects ranges from one or more inputs and builds a PrefixTable. */
export class PrefixTableBuilder {
  private readonly v4 = pending<number>()
  private readonly v6 = pending<bigint>()
  private readonly orgIds = new Map<string, number>()
  private readonly orgNames: string[] = []
  private readonly sourceNames: string[] = []
  private sourceIndex = -1

  /** Starts a new input; later ranges' errors name `source` (a file name). */
  beginSource (source: string): void {
    this.sourceNames.push(source)
    this.sourceIndex = this.sourceNames.length - 1
  }

  /** Number of ranges added so far. */
  get size (): number { return this.v4.asns.length + this.v6.asns.length }

  private orgId (org: string): number {
    let id = this.orgIds.get(org)
    if (id === undefined) {
      id = this.orgNames.length
      this.orgNames.push(org)
      this.orgIds.set(org, id)
    }
    return id
  }

  private sourceName (): string {
    if (this.sourceIndex < 0) this.beginSource('<table>')
    return this.sourceNames[this.sourceIndex]
  }

  /** Adds the inclusive range first..last (same family, first <= last); `lineNumber` is for errors. */
  addRange (first: IpAddress, last: IpAddress, asn: number, org: string, lineNumber = 0): void {
    const source = this.sourceName()
    if (first.family !== last.family) throw new PrefixTableFormatError(source, lineNumber, 'range mixes IPv4 and IPv6')
    if (!Number.isInteger(asn) || asn < 0 || asn > 0xffffffff) throw new PrefixTableFormatError(source, lineNumber, `AS number ${asn} is not a 32-bit unsigned integer`)
    const p = first.family === 4 ? this.v4 : this.v6
    const lo = first.family === 4 ? first.w3 : ipToBigInt(first)
    const hi = first.family === 4 ? last.w3 : ipToBigInt(last)
    if (lo > hi) throw new PrefixTableFormatError(source, lineNumber, 'range ends before it starts')
    ;(p.starts as Array<number | bigint>).push(lo)
    ;(p.ends as Array<number | bigint>).push(hi)
    p.asns.push(asn)
    p.orgs.push(this.orgId(org))
  }

  /** Adds `address/prefixBits` (length in the address's own family). */
  addPrefix (address: IpAddress, prefixBits: number, asn: number, org: string, lineNumber = 0): void {
    const { first, last } = prefixRange(address, prefixBits)
    this.addRange(first, last, asn, org, lineNumber)
  }

  /** Flattens nested ranges (most specific wins) and packs everything into typed arrays. */
  build (): PrefixTable {
    const f4 = this.flatten(this.v4, (k) => k + 1, (k) => k - 1)
    const f6 = this.flatten(this.v6, (k) => k + 1n, (k) => k - 1n)
    const n4 = f4.starts.length
    const n6 = f6.starts.length
    const asns = new Uint32Array(n4 + n6)
    const orgIndex = new Uint32Array(n4 + n6)
    for (let i = 0; i < n4; i++) {
      asns[i] = this.v4.asns[f4.owner[i]]
      orgIndex[i] = this.v4.orgs[f4.owner[i]]
    }
    const v6Starts = new Uint32Array(n6 * 4)
    const v6Ends = new Uint32Array(n6 * 4)
    for (let i = 0; i < n6; i++) {
      const s = ipFromBigInt(f6.starts[i])
      const e = ipFromBigInt(f6.ends[i])
      v6Starts.set([s.w0, s.w1, s.w2, s.w3], i * 4)
      v6Ends.set([e.w0, e.w1, e.w2, e.w3], i * 4)
      asns[n4 + i] = this.v6.asns[f6.owner[i]]
      orgIndex[n4 + i] = this.v6.orgs[f6.owner[i]]
    }
    return new PrefixTable({
      v4Starts: Uint32Array.from(f4.starts),
      v4Ends: Uint32Array.from(f4.ends),
      v6Starts,
      v6Ends,
      asns,
      orgIndex,
      orgs: this.orgNames.slice(),
      sources: this.sourceNames.slice()
    })
  }

  /** Turns possibly nested ranges into disjoint sorted segments, each owned by its innermost range. */
  private flatten<K extends number | bigint> (p: PendingRanges<K>, succ: (k: K) => K, pred: (k: K) => K): { starts: K[], ends: K[], owner: number[] } {
    const { starts, ends } = p
    const n = starts.length
    const order: number[] = new Array(n)
    let sorted = true
    for (let i = 0; i < n; i++) {
      order[i] = i
      if (i > 0 && !(starts[i - 1] < starts[i])) sorted = false
    }
    // Tables arrive sorted; skip the O(n log n) sort then. Ties: wider first, then input order.
    if (!sorted) {
      order.sort((a, b) => starts[a] !== starts[b] ? (starts[a] < starts[b] ? -1 : 1) : ends[a] !== ends[b] ? (ends[a] > ends[b] ? -1 : 1) : a - b)
    }
    const out = { starts: [] as K[], ends: [] as K[], owner: [] as number[] }
    const emit = (from: K, to: K, owner: number): void => {
      out.starts.push(from); out.ends.push(to); out.owner.push(owner)
    }
    const stack: number[] = []
    let cursor: K | undefined
    for (const r of order) {
      // Close every open range that does not contain r: those that ended
      // before r, and those r overlaps partially (r wins the overlap).
      while (stack.length > 0 && ends[stack[stack.length - 1]] < ends[r]) {
        const t = stack.pop() as number
        const stop = ends[t] < starts[r] ? ends[t] : pred(starts[r])
        if (cursor !== undefined && cursor <= stop) {
          emit(cursor, stop, t)
          cursor = succ(stop)
        }
      }
      if (stack.length > 0) {
        const t = stack[stack.length - 1]
        if (cursor !== undefined && cursor < starts[r]) emit(cursor, pred(starts[r]), t)
      }
      cursor = starts[r]
      stack.push(r)
    }
    while (stack.length > 0) {
      const t = stack.pop() as number
      if (cursor !== undefined && cursor <= ends[t]) emit(cursor, ends[t], t)
      cursor = succ(ends[t])
    }
    return out
  }
}
