/**
 * `--fleet FILE` of `seed`, `publish`, `get` and `stream`: a publisher-signed fleet
 * record (`swarmcdn fleet sign`). Its own module so each command gains it
 * with one line.
 */
import { type Command, InvalidArgumentError } from 'commander'
import { findFleetRecord, readFleetFile, FleetFileError } from '../client/fleet-origins.js'
import type { FleetRecord } from '../core/fleet/fleet-record.js'
import type { SwarmNode } from '../net/swarm-node.js'
import type { ProviderFinder } from '../client/swarm-peer.js'

/** The parsed option. */
export interface FleetCliOptions {
  fleet?: string
  /** `get`/`stream --fleet-publisher HEX`: find the record through the overlay. */
  fleetPublisher?: string
}

/** Parses a publisher's public key: 64 hex digits (as `keygen` and `fleet show` print it). */
export function parsePublisherKey (text: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(text.trim())) throw new InvalidArgumentError(`not a publisher key (64 hex digits, as swarmcdn keygen prints it): ${text}`)
  return text.trim().toLowerCase()
}

/** Time between overlay lookups of the fleet record while none was found, ms. */
const FLEET_FIND_RETRY_MS = 1000

/**
 * The newest record of the publisher `keyHex` found through the overlay
 * (its seeders announce the fleet lookup id), asking again every second up
 * to `timeoutSec`; FleetFileError when none was found.
 */
export async function findFleetOrThrow (node: SwarmNode, finder: ProviderFinder, keyHex: string, timeoutSec: number, signal: AbortSignal): Promise<FleetRecord> {
  const key = new Uint8Array(Buffer.from(keyHex, 'hex'))
  const deadline = Date.now() + timeoutSec * 1000
  while (true) {
    const left = deadline - Date.now()
    const found = await findFleetRecord(node, finder, key, { signal: AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, left))]) }).catch(() => undefined)
    if (found != null) return found
    signal.throwIfAborted()
    if (Date.now() + FLEET_FIND_RETRY_MS >= deadline) throw new FleetFileError(`no fleet record of publisher ${keyHex.slice(0, 16)}... found through the overlay within ${timeoutSec} s`)
    await new Promise(resolve => setTimeout(resolve, FLEET_FIND_RETRY_MS))
  }
}

/** Adds `--fleet FILE` to `cmd` with a command-specific `what`. */
export function addFleetOption (cmd: Command, what: string): Command {
  return cmd.option('--fleet <file>', `signed fleet record (from swarmcdn fleet sign): ${what}`)
}

/** The verified record of `--fleet` (with `trustedKey`, another publisher's is refused), or undefined without it. Throws FleetFileError. */
export async function fleetOf (opts: FleetCliOptions, trustedKey?: Uint8Array): Promise<FleetRecord | undefined> {
  return opts.fleet == null ? undefined : await readFleetFile(opts.fleet, trustedKey)
}
