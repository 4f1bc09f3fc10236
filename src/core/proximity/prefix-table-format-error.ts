/** Thrown when a prefix-table line cannot be used; the message starts with "source:line:". */
export class PrefixTableFormatError extends Error {
  override name = 'PrefixTableFormatError'
  readonly code = 'ERR_PREFIX_TABLE_FORMAT'
  /** The file name (or other label) the bad line came from. */
  readonly source: string
  /** 1-based line number of the bad line. */
  readonly lineNumber: number

  constructor (source: string, lineNumber: number, reason: string) {
    super(`${source}:${lineNumber}: ${reason}`)
    this.source = source
    this.lineNumber = lineNumber
  }
}
