/**
 * Reads CAIDA's RouteViews prefix-to-AS files (routeviews-rv2-*.pfx2as):
 * `prefix<TAB>length<TAB>origin` one a line, IPv4 or IPv6. The origin is one
 * AS number, a multi-origin list "a_b" (the prefix is announced by several
 * ASes) or an AS set "a,b" (from an aggregated announcement); both may mix.
 * See https://publicdata.caida.org/datasets/routing/routeviews-prefix2as/README.txt
 *
 * Rules: a prefix takes the FIRST listed AS as its AS number, and, when
 * there are several, the org text "origins a_b" so the choice stays visible.
 * Nested prefixes are kept; the table answers with the most specific one
 * (see prefix-table.ts). Empty lines and lines starting with "#" are
 * skipped; anything else that does not fit throws PrefixTableFormatError.
 */
import { IpAddressFormatError, parseIpAddress } from './ip-address.js'
import { parseAsnDigits } from './asn-text.js'
import { PrefixTable, PrefixTableBuilder } from './prefix-table.js'
import { PrefixTableFormatError } from './prefix-table-format-error.js'
import { asLines } from './text-lines.js'

/** Options for reading one CAIDA pfx2as file. */
export interface CaidaPfx2asLoadInit {
  /** Name used in error messages (a file name); default "<pfx2as>". */
  source?: string
}

/** Adds every prefix of a CAIDA pfx2as file to `builder`; returns how many lines were prefixes. */
export function addCaidaPfx2asLines (builder: PrefixTableBuilder, lines: Iterable<string> | string, init: CaidaPfx2asLoadInit = {}): number {
  const source = init.source ?? '<pfx2as>'
  builder.beginSource(source)
  let lineNumber = 0
  let count = 0
  for (const line of asLines(lines)) {
    lineNumber++
    if (line.length === 0 || line.charCodeAt(0) === 35) continue
    const fields = line.split('\t')
    if (fields.length !== 3) throw new PrefixTableFormatError(source, lineNumber, `expected 3 tab-separated fields "prefix length asn", got ${fields.length}`)
    const [prefixText, lengthText, originText] = fields
    let addr
    try {
      addr = parseIpAddress(prefixText)
    } catch (err) {
      if (err instanceof IpAddressFormatError) throw new PrefixTableFormatError(source, lineNumber, `bad prefix: ${err.message}`)
      throw err
    }
    const maxBits = addr.family === 4 ? 32 : 128
    const length = parseAsnDigits(lengthText)
    if (length < 0 || length > maxBits) throw new PrefixTableFormatError(source, lineNumber, `bad prefix length "${lengthText}" for IPv${addr.family}`)
    const origins = originText.split(/[_,]/)
    let primary = -1
    for (const o of origins) {
      const asn = parseAsnDigits(o)
      if (asn < 0) throw new PrefixTableFormatError(source, lineNumber, `bad AS number "${o}" in origin "${originText}"`)
      if (primary < 0) primary = asn
    }
    builder.addPrefix(addr, length, primary, origins.length > 1 ? `origins ${originText}` : '', lineNumber)
    count++
  }
  return count
}

/** Builds a table from one CAIDA pfx2as file (text or lines). */
export function loadCaidaPfx2asTable (lines: Iterable<string> | string, init: CaidaPfx2asLoadInit = {}): PrefixTable {
  const builder = new PrefixTableBuilder()
  addCaidaPfx2asLines(builder, lines, init)
  return builder.build()
}
