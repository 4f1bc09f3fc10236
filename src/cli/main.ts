/**
 * The `swarmcdn` command. Each subcommand lives in src/cli/commands/ and
 * registers itself here; errors a user can cause print one line and exit 1.
 */
import { Command, CommanderError } from 'commander'
import { COMMANDS } from './commands/index.js'
import { reportFatal } from './fatal.js'

// Commander prints its own parse errors; errors thrown from inside an action
// (even commander's InvalidArgumentError) are ours to print.
let commanderPrinted = false

const program = new Command()
  .name('swarmcdn')
  .description('Peer-to-peer content distribution: publish, seed, download, stream and simulate.')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => { commanderPrinted = true; write(text) } })

for (const register of COMMANDS) register(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError && (commanderPrinted || err.exitCode === 0)) {
    process.exitCode = err.exitCode
  } else {
    reportFatal(err)
  }
}
