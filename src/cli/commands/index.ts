import type { Command } from 'commander'
import { registerSim } from './sim.js'

/** A subcommand module adds itself to the program. */
export type RegisterCommand = (program: Command) => void

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: RegisterCommand[] = [
  registerSim
]
