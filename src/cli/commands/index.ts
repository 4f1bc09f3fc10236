import type { Command } from 'commander'
import { registerKeygen } from './keygen.js'
import { registerPublish } from './publish.js'
import { registerSeed } from './seed.js'
import { registerGet } from './get.js'
import { registerStream } from './stream.js'
import { registerPeer } from './peer.js'
import { registerStatus } from './status.js'
import { registerAsn } from './asn.js'
import { registerSim } from './sim.js'

/** A subcommand module adds itself to the program. */
export type RegisterCommand = (program: Command) => void

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: RegisterCommand[] = [
  registerKeygen,
  registerPublish,
  registerSeed,
  registerGet,
  registerStream,
  registerPeer,
  registerStatus,
  registerAsn,
  registerSim
]
