/**
 * A PrefixTable as one flat byte block, so a process gets the full
 * RouteViews table with one file read and no parsing: the CSVs take ~0.5
 * to 1.4 s of CPU to parse (text decoding and address parsing for 515 k
 * lines), the block ~20 ms to read (docs/BENCHMARKS.md "Prefix table").
 *
 * Layout (every integer a 32-bit word in the writer's byte order, marked
 * by BYTE_ORDER_MARK so a reader of the other order rejects the block):
 *
 *   "SWPT" | BYTE_ORDER_MARK | FORMAT_VERSION | stamp length | stamp (UTF-8, padded to 4)
 *   | v4 ranges | v6 ranges | orgs | org text bytes
 *   | v4Starts | v4Ends | v6Starts (4 words each) | v6Ends | asns | orgIndex
 *   | org names (UTF-8, NUL-separated)
 *
 * The stamp names the input the block was made from (package version and
 * file sizes); a reader asking for another stamp gets undefined and falls
 * back to the CSVs, so an updated table package is never answered from an
 * old block. No file I/O here: src/client/prefix-table-files.ts reads and
 * writes the file.
 */
import { PrefixTable } from '../core/proximity/prefix-table.js'

const MAGIC = 0x54505753 // "SWPT" read as a little-endian word
/** Written in native order; reads back as this value only in the same order. */
const BYTE_ORDER_MARK = 0x01020304
/** Bumped whenever the layout changes, so old blocks are rebuilt, never misread. */
export const PREFIX_TABLE_FORMAT_VERSION = 1
const ORG_SEPARATOR = '\u0000'

/** The bytes are not a table block this code can read (truncated, or another format). */
export class PrefixTableBinaryError extends Error {
  override name = 'PrefixTableBinaryError'
  readonly code = 'ERR_PREFIX_TABLE_BINARY'
}

const pad4 = (n: number): number => (n + 3) & ~3

/** Encodes `table` with `stamp` (what it was built from). */
export function encodePrefixTable (table: PrefixTable, stamp: string): Uint8Array {
  const n4 = table.v4RangeCount
  const n6 = table.v6RangeCount
  const n = n4 + n6
  const v4Starts = new Uint32Array(n4)
  const v4Ends = new Uint32Array(n4)
  const v6Starts = new Uint32Array(n6 * 4)
  const v6Ends = new Uint32Array(n6 * 4)
  const asns = new Uint32Array(n)
  const orgIndex = new Uint32Array(n)
  const orgIds = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const { first, last } = table.rangeAt(i)
    if (i < n4) {
      v4Starts[i] = first.w3
      v4Ends[i] = last.w3
    } else {
      const k = (i - n4) * 4
      v6Starts.set([first.w0, first.w1, first.w2, first.w3], k)
      v6Ends.set([last.w0, last.w1, last.w2, last.w3], k)
    }
    asns[i] = table.asnAt(i)
    const org = table.orgAt(i)
    if (org.includes(ORG_SEPARATOR)) throw new PrefixTableBinaryError(`organisation name of range ${i} contains a NUL character`)
    let id = orgIds.get(org)
    if (id === undefined) { id = orgIds.size; orgIds.set(org, id) }
    orgIndex[i] = id
  }
  const stampBytes = new TextEncoder().encode(stamp)
  const orgBytes = new TextEncoder().encode([...orgIds.keys()].join(ORG_SEPARATOR))
  const headerWords = [MAGIC, BYTE_ORDER_MARK, PREFIX_TABLE_FORMAT_VERSION, stampBytes.length]
  const countWords = [n4, n6, orgIds.size, orgBytes.length]
  const arrays = [v4Starts, v4Ends, v6Starts, v6Ends, asns, orgIndex]
  const total = headerWords.length * 4 + pad4(stampBytes.length) + countWords.length * 4 + arrays.reduce((s, a) => s + a.byteLength, 0) + orgBytes.length
  const out = new Uint8Array(total)
  let offset = 0
  const words = (w: ArrayLike<number>): void => { out.set(new Uint8Array(Uint32Array.from(w).buffer), offset); offset += w.length * 4 }
  words(headerWords)
  out.set(stampBytes, offset)
  offset += pad4(stampBytes.length)
  words(countWords)
  for (const a of arrays) { out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset); offset += a.byteLength }
  out.set(orgBytes, offset)
  return out
}

/** The stamp a block was written with, or undefined when `bytes` is not a block of this format and byte order. */
export function prefixTableStamp (bytes: Uint8Array): string | undefined {
  if (bytes.byteLength < 16) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const le = new Uint8Array(new Uint32Array([BYTE_ORDER_MARK]).buffer)[0] === 4
  const word = (i: number): number => view.getUint32(i * 4, le)
  if (word(0) !== MAGIC || word(1) !== BYTE_ORDER_MARK || word(2) !== PREFIX_TABLE_FORMAT_VERSION) return undefined
  const length = word(3)
  if (16 + length > bytes.byteLength) return undefined
  return new TextDecoder().decode(bytes.subarray(16, 16 + length))
}

/**
 * The table in `bytes` if it was written with `stamp` in this format and
 * byte order, else undefined. The typed arrays are views of `bytes` (no
 * copy) when it starts on a 4-byte boundary, as a whole-file read does.
 * `sources` become the table's `sources`.
 */
export function decodePrefixTable (bytes: Uint8Array, stamp: string, sources: readonly string[]): PrefixTable | undefined {
  if (prefixTableStamp(bytes) !== stamp) return undefined
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice()
  let offset = 16 + pad4(new Uint32Array(aligned.buffer, aligned.byteOffset + 12, 1)[0])
  const take = (count: number): Uint32Array => {
    if (offset + count * 4 > aligned.byteLength) throw new PrefixTableBinaryError('prefix table block is truncated')
    const a = new Uint32Array(aligned.buffer, aligned.byteOffset + offset, count)
    offset += count * 4
    return a
  }
  const [n4, n6, orgCount, orgByteCount] = take(4)
  const v4Starts = take(n4)
  const v4Ends = take(n4)
  const v6Starts = take(n6 * 4)
  const v6Ends = take(n6 * 4)
  const asns = take(n4 + n6)
  const orgIndex = take(n4 + n6)
  if (offset + orgByteCount !== aligned.byteLength) throw new PrefixTableBinaryError('prefix table block has the wrong length')
  const orgText = new TextDecoder().decode(aligned.subarray(offset))
  const orgs = orgCount === 0 ? [] : orgText.split(ORG_SEPARATOR)
  if (orgs.length !== orgCount) throw new PrefixTableBinaryError(`prefix table block names ${orgs.length} organisations, expected ${orgCount}`)
  return new PrefixTable({ v4Starts, v4Ends, v6Starts, v6Ends, asns, orgIndex, orgs, sources })
}
