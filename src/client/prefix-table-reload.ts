/**
 * Replaces a running node's prefix table when fresh BGP data arrives: on
 * SIGHUP and when one of the table files changes (file-reload.ts). A table
 * that fails to load (missing, unreadable, a bad line, no ranges) leaves
 * the current one in place, so a half-written or broken file never blinds
 * the node.
 */
import type { AsnResolver } from '../core/proximity/asn-resolver.js'
import { loadPrefixTableFilesAsync } from './prefix-table-files.js'
import { DEFAULT_FILE_RELOAD_POLL_MS, watchFileReload } from './file-reload.js'

/** Polling period of the table files, ms (fs.watchFile: survives a file replaced by rename, as table updaters do). */
export const DEFAULT_PREFIX_TABLE_POLL_MS = DEFAULT_FILE_RELOAD_POLL_MS

/** Options of watchPrefixTables. */
export interface PrefixTableReloadInit {
  /** The table files (as loaded at start); default the @ip-location-db/asn tables, which are reloaded on SIGHUP only (they change with the package). */
  paths?: readonly string[]
  /** Called with the new table's range count after a reload. */
  onReload?: (info: { ranges: number, reason: 'signal' | 'file-changed' }) => void
  /** Called when a reload failed and the previous table was kept. */
  onError?: (err: Error) => void
  /** Reload on SIGHUP. Default true. */
  onSignal?: boolean
  /** Time between checks of the files, ms. Default DEFAULT_PREFIX_TABLE_POLL_MS (2 s). */
  pollMs?: number
}

/** Starts reloading into `resolver`; returns the function that stops it. */
export function watchPrefixTables (resolver: AsnResolver, init: PrefixTableReloadInit = {}): () => void {
  const watch = watchFileReload({
    paths: init.paths ?? [],
    load: async () => {
      const table = await loadPrefixTableFilesAsync(init.paths)
      // A file truncated to nothing (an updater caught mid-write) parses cleanly and would place nobody.
      if (table.rangeCount === 0 && resolver.table.rangeCount > 0) throw new Error('the new prefix table has no ranges')
      return table
    },
    apply: table => { resolver.replaceTable(table) },
    onReload: (table, reason) => { init.onReload?.({ ranges: table.rangeCount, reason }) },
    onError: err => { init.onError?.(err) },
    onSignal: init.onSignal,
    pollMs: init.pollMs
  })
  return watch.stop
}
