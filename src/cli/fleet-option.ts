/**
 * `--fleet FILE` of `seed`, `publish` and `get`: a publisher-signed fleet
 * record (`swarmcdn fleet sign`). Its own module so each command gains it
 * with one line.
 */
import type { Command } from 'commander'
import { readFleetFile } from '../client/fleet-origins.js'
import type { FleetRecord } from '../core/fleet/fleet-record.js'

/** The parsed option. */
export interface FleetCliOptions {
  fleet?: string
}

/** Adds `--fleet FILE` to `cmd` with a command-specific `what`. */
export function addFleetOption (cmd: Command, what: string): Command {
  return cmd.option('--fleet <file>', `signed fleet record (from swarmcdn fleet sign): ${what}`)
}

/** The verified record of `--fleet` (with `trustedKey`, another publisher's is refused), or undefined without it. Throws FleetFileError. */
export async function fleetOf (opts: FleetCliOptions, trustedKey?: Uint8Array): Promise<FleetRecord | undefined> {
  return opts.fleet == null ? undefined : await readFleetFile(opts.fleet, trustedKey)
}
