/**
 * A running fleet seeder re-reads its `--fleet` file on SIGHUP and when
 * the file changes; a record that is older, foreign or broken is refused
 * with one line and the current record stays.
 */
import { readFleetFile } from '../client/fleet-origins.js'
import type { SeederFleet } from '../../seeders/fleet-seeder.js'
import type { FleetRecordChange } from '../core/fleet/fleet-membership.js'
import { watchFileReload } from '../client/file-reload.js'

/** Polling period of the fleet file, ms (fs.watchFile: survives editors that replace the file). */
const FLEET_FILE_POLL_MS = 1000

/** Starts reloading `path` into `fleet` (client/file-reload.ts, as the prefix table and ALTO maps); returns the function that stops it. */
export function watchFleetFile (path: string, fleet: SeederFleet, json: boolean): () => void {
  const log = (event: Record<string, unknown>, text: string): void => {
    if (json) process.stdout.write(JSON.stringify(event) + '\n')
    else process.stderr.write(`${text}\n`)
  }
  let change: FleetRecordChange | undefined
  return watchFileReload({
    paths: [path],
    load: async () => await readFleetFile(path, fleet.membership.record.publisherKey),
    // An older record is refused here (StaleFleetRecordError), the held one stays.
    apply: record => { change = fleet.update(record) },
    onReload: record => {
      if (change?.outcome === 'newer') log({ event: 'fleet-reloaded', sequence: record.sequence, gained: change.gained.length, lost: change.lost.length }, `fleet record ${record.sequence} loaded: owns ${change.gained.length} more, ${change.lost.length} fewer item(s)`)
    },
    onError: err => { log({ event: 'fleet-refused', error: err.message }, `swarmcdn: kept fleet record ${fleet.membership.record.sequence}: ${err.message}`) },
    pollMs: FLEET_FILE_POLL_MS
  }).stop
}
