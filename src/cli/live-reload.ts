/**
 * What `seed` and `peer` pick up while running, and the lines they print
 * about it: the prefix table (SIGHUP, file change; a table that fails to
 * load is refused and the old one kept) and items published into or
 * removed from the store by other processes.
 */
import { AsnResolver } from '../core/proximity/asn-resolver.js'
import { loadPrefixTableFiles } from '../client/prefix-table-files.js'
import { watchPrefixTables } from '../client/prefix-table-reload.js'
import type { ContentId } from '../core/content/content-id.js'

/** Loads `--prefix-table` (default: the package tables) into a resolver that reloads; `stop` ends the watch. */
export function reloadingResolver (prefixTable: string[] | undefined, json: boolean): { resolver: AsnResolver, stop: () => void } {
  const resolver = new AsnResolver(prefixTable?.length === 0 ? undefined : loadPrefixTableFiles(prefixTable))
  const stop = watchPrefixTables(resolver, {
    paths: prefixTable,
    onReload: ({ ranges, reason }) => {
      if (json) process.stdout.write(JSON.stringify({ event: 'prefix-table-reloaded', ranges, reason }) + '\n')
      else process.stderr.write(`prefix table reloaded (${reason}): ${ranges} ranges\n`)
    },
    onError: err => {
      if (json) process.stdout.write(JSON.stringify({ event: 'prefix-table-refused', error: err.message }) + '\n')
      else process.stderr.write(`swarmcdn: kept the previous prefix table: ${err.message.replace(/\s*\n\s*/g, ' ')}\n`)
    }
  })
  return { resolver, stop }
}

/** Prints what the store watch found. */
export function printStoreChange (change: { added: ContentId[], removed: ContentId[] }, json: boolean): void {
  if (json) { process.stdout.write(JSON.stringify({ event: 'store-changed', added: change.added, removed: change.removed }) + '\n'); return }
  for (const id of change.added) process.stdout.write(`now serving ${id}\n`)
  for (const id of change.removed) process.stdout.write(`no longer serving ${id}\n`)
}
