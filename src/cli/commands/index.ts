/**
 * The list of subcommands, each with what the top-level `--help` shows of
 * it and a loader for its module. A command's module is imported only when
 * that command runs (or shows its own help): `get` pulls in libp2p and
 * `sim` the simulator, and loading every module up front made every
 * invocation, `--help` included, pay for all of them.
 */
import type { Command } from 'commander'

/** A subcommand module adds itself to the program. */
export type RegisterCommand = (program: Command) => void

/** One subcommand as the top-level help lists it, and how to load it. */
export interface CommandEntry {
  /** The command's name, as typed after `swarmcdn`. */
  readonly name: string
  /** Its arguments as the top-level help shows them, e.g. `[options] <content-id>`. */
  readonly usage: string
  /** One line for the top-level list (the module has the full description). */
  readonly summary: string
  /** Imports the command's module and returns its register function. */
  readonly load: () => Promise<RegisterCommand>
}

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'keygen', usage: '[options]', summary: 'create a new Ed25519 publisher key', load: async () => (await import('./keygen.js')).registerKeygen },
  { name: 'publish', usage: '[options] <file>', summary: 'sign a file into a seeder\'s content store; prints its content id', load: async () => (await import('./publish.js')).registerPublish },
  { name: 'unpublish', usage: '[options] <content-id>', summary: 'remove an item from a content store (a running seeder withdraws it)', load: async () => (await import('./unpublish.js')).registerUnpublish },
  { name: 'seed', usage: '[options]', summary: 'run an origin seeder for a content store (libp2p, optional HTTP web seed)', load: async () => (await import('./seed.js')).registerSeed },
  { name: 'fleet', usage: '[options] [command]', summary: 'fleet of origin seeders: sign its record (sign), show, plan what moves (plan), push a store to the owners (push)', load: async () => (await import('./fleet.js')).registerFleet },
  { name: 'get', usage: '[options] <content-id|link>', summary: 'download an item from many peers at once, verified and resumable', load: async () => (await import('./get.js')).registerGet },
  { name: 'link', usage: '[options] <content-id>', summary: 'print a shareable link: a content id and where to get it (peers, web seeds)', load: async () => (await import('./link.js')).registerLink },
  { name: 'stream', usage: '[options] <content-id|link>', summary: 'download an item and play it while it downloads, through a local URL', load: async () => (await import('./stream.js')).registerStream },
  { name: 'peer', usage: '[options]', summary: 'run a long-lived overlay peer that serves a store', load: async () => (await import('./peer.js')).registerPeer },
  { name: 'status', usage: '[options]', summary: 'show a running peer\'s overlay status', load: async () => (await import('./status.js')).registerStatus },
  { name: 'asn', usage: '[options] <address...>', summary: 'print the AS number and organisation of IP addresses', load: async () => (await import('./asn.js')).registerAsn },
  { name: 'sim', usage: '[options] <scenario>', summary: 'run a simulator scenario and write its summary, time series and charts', load: async () => (await import('./sim.js')).registerSim }
]

/**
 * The subcommand an argument list runs, or shows help for (`help get`,
 * `get --help`): its first word that is not an option. undefined for none
 * or an unknown one (commander then prints the top-level help or error).
 */
export function commandNamed (args: readonly string[]): CommandEntry | undefined {
  const words = args.filter(a => !a.startsWith('-'))
  const name = words[0] === 'help' ? words[1] : words[0]
  return COMMANDS.find(c => c.name === name)
}
