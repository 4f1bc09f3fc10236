/**
 * The relay limits of `seed` and `peer` (a peer relays only while it is a
 * supernode): options for src/net/relay-server.ts, each with the default
 * it documents there. Kept in its own module so both commands gain them
 * with one line each.
 */
import { InvalidArgumentError, type Command } from 'commander'
import { parseByteSize } from './parse-options.js'
import { RELAY_SERVER_DEFAULTS, type RelayServerInit } from '../net/relay-server.js'

/** The parsed options. */
export interface RelayCliOptions {
  relayPieces?: boolean
  relayMaxReservations?: number
  relayMaxReservationsPerNetwork?: number
  relayMaxConnectionsPerLeaf?: number
  relayMaxBytes?: number
  relayMaxDuration?: number
}

function parsePositiveInt (text: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got ${text}`)
  return n
}

/** Adds the relay options to `cmd`. */
export function addRelayOptions (cmd: Command): Command {
  const d = RELAY_SERVER_DEFAULTS
  return cmd
    .option('--relay-max-reservations <n>', `leaves behind NATs this node relays for at once (default ${d.maxReservations})`, parsePositiveInt)
    .option('--relay-max-reservations-per-network <n>', `reservations held at once by requesters of one /24 (IPv6 /48), whatever their peer ids (default ${d.maxReservationsPerNetwork})`, parsePositiveInt)
    .option('--relay-max-connections-per-leaf <n>', `relayed connections open at once towards one leaf (default ${d.maxRelayedConnectionsPerLeaf})`, parsePositiveInt)
    .option('--relay-max-bytes <bytes>', `bytes one relayed connection may carry, units allowed (default ${d.maxBytesPerRelayedConnection / 1024}KiB)`, parseByteSize)
    .option('--relay-max-duration <seconds>', `how long one relayed connection may stay open (default ${d.maxRelayedConnectionDurationMs / 1000})`, parsePositiveInt)
    .option('--relay-pieces', 'let pieces cross this relay (no byte or time limit on relayed connections); default off: relays carry signalling only', false)
}

/** The relay server options the user gave (the rest keep their defaults). */
export function relayInitOf (opts: RelayCliOptions): RelayServerInit {
  return {
    maxReservations: opts.relayMaxReservations,
    maxReservationsPerNetwork: opts.relayMaxReservationsPerNetwork,
    maxRelayedConnectionsPerLeaf: opts.relayMaxConnectionsPerLeaf,
    maxBytesPerRelayedConnection: opts.relayMaxBytes,
    maxRelayedConnectionDurationMs: opts.relayMaxDuration != null ? opts.relayMaxDuration * 1000 : undefined,
    relayPieces: opts.relayPieces === true
  }
}
