/** Transit-class byte counts as one line of command output (`get`'s summary, `status`). */
import { LOCALITY_CLASSES, type LocalityByteCounts } from '../core/proximity/locality.js'

const LABELS: Record<keyof LocalityByteCounts, string> = { 'same-as': 'same AS', 'same-prefix': 'same prefix', 'other-as': 'other AS', unknown: 'unknown' }

/** "1.0 MiB same AS, 0.0 MiB same prefix, 2.0 MiB other AS, 0.0 MiB unknown", with `format` for each count. */
export function formatLocalityBytes (counts: Partial<LocalityByteCounts> | undefined, format: (bytes: number) => string): string {
  return LOCALITY_CLASSES.map(c => `${format(Number(counts?.[c] ?? 0))} ${LABELS[c]}`).join(', ')
}

export { addLocalityCounts } from '../core/proximity/locality.js'
