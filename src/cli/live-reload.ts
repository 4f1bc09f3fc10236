/**
 * What `seed` and `peer` pick up while running, and the lines they print
 * about it: the prefix table and the ALTO maps (SIGHUP, file change; a
 * table or map pair that fails to load is refused and the old one kept)
 * and items published into or removed from the store by other processes.
 */
import { AsnResolver } from '../core/proximity/asn-resolver.js'
import { loadPrefixTableFiles } from '../client/prefix-table-files.js'
import { watchPrefixTables } from '../client/prefix-table-reload.js'
import type { ContentId } from '../core/content/content-id.js'
import type { AltoCosts } from '../core/proximity/alto-map.js'
import { watchAltoFiles } from '../client/alto-files.js'
import type { AltoCliOptions } from './alto-option.js'

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

/** Reloads `--alto-network-map`/`--alto-cost-map` into `alto` (when given); returns the function that stops it. */
export function reloadingAlto (opts: AltoCliOptions, alto: AltoCosts | undefined, json: boolean): () => void {
  if (alto == null || opts.altoNetworkMap == null || opts.altoCostMap == null) return () => {}
  return watchAltoFiles(alto, opts.altoNetworkMap, opts.altoCostMap, {
    onReload: ({ vtag, reason }) => {
      if (json) process.stdout.write(JSON.stringify({ event: 'alto-reloaded', resourceId: vtag.resourceId, tag: vtag.tag, reason }) + '\n')
      else process.stderr.write(`ALTO maps reloaded (${reason}): network map ${vtag.resourceId} tag ${vtag.tag}\n`)
    },
    onError: err => {
      if (json) process.stdout.write(JSON.stringify({ event: 'alto-refused', error: err.message }) + '\n')
      else process.stderr.write(`swarmcdn: kept the previous ALTO maps: ${err.message.replace(/\s*\n\s*/g, ' ')}\n`)
    }
  })
}

/** Prints what the store watch found. */
export function printStoreChange (change: { added: ContentId[], removed: ContentId[] }, json: boolean): void {
  if (json) { process.stdout.write(JSON.stringify({ event: 'store-changed', added: change.added, removed: change.removed }) + '\n'); return }
  for (const id of change.added) process.stdout.write(`now serving ${id}\n`)
  for (const id of change.removed) process.stdout.write(`no longer serving ${id}\n`)
}
