/**
 * A running fleet seeder re-reads its `--fleet` file on SIGHUP and when
 * the file changes; a record that is older, foreign or broken is refused
 * with one line and the current record stays.
 */
import { watchFile, unwatchFile } from 'node:fs'
import { readFleetFile } from '../client/fleet-origins.js'
import type { SeederFleet } from '../../seeders/fleet-seeder.js'

/** Polling period of the fleet file, ms (fs.watchFile: survives editors that replace the file). */
const FLEET_FILE_POLL_MS = 1000

/** Starts reloading `path` into `fleet`; returns the function that stops it. */
export function watchFleetFile (path: string, fleet: SeederFleet, json: boolean): () => void {
  const log = (event: Record<string, unknown>, text: string): void => {
    if (json) process.stdout.write(JSON.stringify(event) + '\n')
    else process.stderr.write(`${text}\n`)
  }
  let running = Promise.resolve()
  const reload = (): void => {
    running = running.then(async () => {
      try {
        const record = await readFleetFile(path, fleet.membership.record.publisherKey)
        const change = fleet.update(record)
        if (change.outcome === 'newer') log({ event: 'fleet-reloaded', sequence: record.sequence, gained: change.gained.length, lost: change.lost.length }, `fleet record ${record.sequence} loaded: owns ${change.gained.length} more, ${change.lost.length} fewer item(s)`)
      } catch (err) {
        log({ event: 'fleet-refused', error: (err as Error).message }, `swarmcdn: kept fleet record ${fleet.membership.record.sequence}: ${(err as Error).message}`)
      }
    })
  }
  const onHup = (): void => { reload() }
  process.on('SIGHUP', onHup)
  watchFile(path, { interval: FLEET_FILE_POLL_MS, persistent: false }, (cur, prev) => { if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size) reload() })
  return () => {
    process.off('SIGHUP', onHup)
    unwatchFile(path)
  }
}
