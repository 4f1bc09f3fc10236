/**
 * Reads the CSV of the npm package `@ip-location-db/asn`: one range a line,
 * `first,last,asn,org` (addresses in text form, IPv4 or IPv6; the org is
 * CSV-quoted when it holds a comma or a quote, quotes doubled). Lines may
 * end in CRLF; empty lines and lines starting with "#" are skipped. A line
 * that does not fit throws PrefixTableFormatError naming source:line.
 *
 * Fields are split by hand rather than with csv-parse: the format has one
 * optionally quoted column at the end, and bench/prefix-table.ts measures
 * the hand split against csv-parse on the full table.
 */
import { type IpAddress, IpAddressFormatError, parseIpAddress } from './ip-address.js'
import { parseAsnDigits } from './asn-text.js'
import { PrefixTable, PrefixTableBuilder } from './prefix-table.js'
import { PrefixTableFormatError } from './prefix-table-format-error.js'
import { asLines } from './text-lines.js'

/** Options for reading one ip-location-db CSV. */
export interface IpLocationDbLoadInit {
  /** Name used in error messages (a file name); default "<ip-location-db>". */
  source?: string
}

function unquote (field: string, source: string, lineNumber: number): string {
  if (field.charCodeAt(0) !== 34) {
    if (field.includes(',')) throw new PrefixTableFormatError(source, lineNumber, 'expected 4 fields "first,last,asn,org", got more (unquoted comma in org?)')
    if (field.includes('"')) throw new PrefixTableFormatError(source, lineNumber, 'stray quote in unquoted org field')
    return field
  }
  if (field.length < 2 || field.charCodeAt(field.length - 1) !== 34) throw new PrefixTableFormatError(source, lineNumber, 'unterminated quoted org field')
  const inner = field.slice(1, -1)
  if (!inner.includes('"')) return inner
  if (/(^|[^"])"("")*($|[^"])/.test(inner)) throw new PrefixTableFormatError(source, lineNumber, 'lone quote inside quoted org field')
  return inner.replaceAll('""', '"')
}

function address (text: string, what: string, source: string, lineNumber: number): IpAddress {
  try {
    return parseIpAddress(text)
  } catch (err) {
    if (err instanceof IpAddressFormatError) throw new PrefixTableFormatError(source, lineNumber, `bad ${what} address: ${err.message}`)
    throw err
  }
}

/** Adds every range of an ip-location-db CSV to `builder`; returns how many lines were ranges. */
export function addIpLocationDbLines (builder: PrefixTableBuilder, lines: Iterable<string> | string, init: IpLocationDbLoadInit = {}): number {
  const source = init.source ?? '<ip-location-db>'
  builder.beginSource(source)
  let lineNumber = 0
  let count = 0
  for (const line of asLines(lines)) {
    lineNumber++
    if (line.length === 0 || line.charCodeAt(0) === 35) continue
    const c1 = line.indexOf(',')
    const c2 = c1 < 0 ? -1 : line.indexOf(',', c1 + 1)
    if (c2 < 0) throw new PrefixTableFormatError(source, lineNumber, 'expected 4 fields "first,last,asn,org"')
    let c3 = line.indexOf(',', c2 + 1)
    if (c3 < 0) c3 = line.length
    const first = address(line.slice(0, c1), 'first', source, lineNumber)
    const last = address(line.slice(c1 + 1, c2), 'last', source, lineNumber)
    const asn = parseAsnDigits(line, c2 + 1, c3)
    if (asn < 0) throw new PrefixTableFormatError(source, lineNumber, `bad AS number "${line.slice(c2 + 1, c3)}"`)
    const org = c3 < line.length ? unquote(line.slice(c3 + 1), source, lineNumber) : ''
    builder.addRange(first, last, asn, org, lineNumber)
    count++
  }
  return count
}

/** Builds a table from one ip-location-db CSV (text or lines). */
export function loadIpLocationDbTable (lines: Iterable<string> | string, init: IpLocationDbLoadInit = {}): PrefixTable {
  const builder = new PrefixTableBuilder()
  addIpLocationDbLines(builder, lines, init)
  return builder.build()
}
