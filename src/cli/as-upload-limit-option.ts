/**
 * `--as-upload-limit AS=RATE` of `seed` and `peer` (repeatable): cap what
 * this node uploads into one AS (core/swarm/as-upload-limits.ts), on top of
 * `--upload-limit`. Its own module so each command gains it with one line.
 */
import { type Command, InvalidArgumentError } from 'commander'
import { parseByteSize } from './parse-options.js'

/** The parsed option: AS number → bytes/s. */
export interface AsUploadLimitCliOptions {
  asUploadLimit?: Record<number, number>
}

/** Parses one `AS=RATE` (`64601=1MiB`, `AS64601=512KiB`) into the map so far. */
export function parseAsUploadLimit (text: string, previous: Record<number, number> | undefined): Record<number, number> {
  const m = /^(?:AS)?(\d{1,10})=(.+)$/i.exec(text.trim())
  const asn = m == null ? NaN : Number(m[1])
  if (m == null || !(asn > 0 && asn <= 0xffffffff)) throw new InvalidArgumentError(`not AS=RATE: ${text} (e.g. 64601=1MiB or AS64601=512KiB)`)
  const rate = parseByteSize(m[2])
  if (rate < 1) throw new InvalidArgumentError(`AS ${asn}: the rate must be at least 1 byte/s`)
  return { ...(previous ?? {}), [asn]: rate }
}

/** Adds `--as-upload-limit` to `cmd`. */
export function addAsUploadLimitOption (cmd: Command): Command {
  return cmd.option('--as-upload-limit <as=rate>', 'cap the upload rate into one AS, bytes/s with units (e.g. 64601=1MiB; repeatable; on top of --upload-limit; the AS comes from the prefix table)', parseAsUploadLimit)
}
