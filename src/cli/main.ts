/**
 * The `swarmcdn` command. Each subcommand lives in src/cli/commands/ and
 * registers itself here; errors a user can cause print one line and exit 1.
 */
import { Command, CommanderError } from 'commander'
import { COMMANDS } from './commands/index.js'
import { reportFatal } from './fatal.js'

const program = new Command()
  .name('swarmcdn')
  .description('Peer-to-peer content distribution: publish, seed, download, stream and simulate.')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()

for (const register of COMMANDS) register(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode
  } else {
    reportFatal(err)
  }
}
