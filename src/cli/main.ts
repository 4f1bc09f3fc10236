/**
 * The `swarmcdn` command. Each subcommand lives in src/cli/commands/ and
 * registers itself here; errors a user can cause print one line and exit 1.
 *
 * Only the module of the command being run is loaded (the others appear in
 * the top-level help by name and summary), and the process exits as soon
 * as the command's action has finished: see exitNow.
 */
import { Command, CommanderError } from 'commander'
import { COMMANDS, commandNamed } from './commands/index.js'
import { reportFatal } from './fatal.js'
import { packageVersion } from './package-version.js'

// A reader that went away (`swarmcdn ... | head`) is not our error to print:
// stop as a signal would (commands holding a download save it on SIGTERM).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    process.kill(process.pid, 'SIGTERM')
  })
}

// Commander prints its own parse errors; errors thrown from inside an action
// (even commander's InvalidArgumentError) are ours to print.
let commanderPrinted = false

const program = new Command()
  .name('swarmcdn')
  .description('Peer-to-peer content distribution: publish, seed, download, stream and simulate.')
  .version(packageVersion(), '-V, --version', 'print the version of swarmcdn')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => { commanderPrinted = true; write(text) } })
  // The stubs of commands not loaded have no options or arguments of their own to list.
  .configureHelp({ subcommandTerm: cmd => `${cmd.name()} ${cmd.usage()}` })

/**
 * Ends the process once stdout and stderr have taken everything written.
 *
 * Why not let the event loop drain: a command's action returns only when
 * its work is done and saved (a download's output renamed and its state
 * written, a seeder stopped), but libp2p leaves timers behind after
 * stop(), e.g. the address manager's 1 s debounce armed when the listener
 * closes. Waiting for them added ~1 s to every `get` of a small item.
 */
async function exitNow (): Promise<never> {
  await Promise.all([process.stdout, process.stderr].map(async s => await new Promise<void>(resolve => { s.write('', () => { resolve() }) })))
  process.exit()
}

try {
  const chosen = commandNamed(process.argv.slice(2))
  for (const entry of COMMANDS) {
    if (entry === chosen) (await entry.load())(program)
    else program.command(entry.name).usage(entry.usage).summary(entry.summary)
  }
  await program.parseAsync(process.argv)
} catch (err) {
  // 'commander.help': no command given, the help went to stderr.
  if (err instanceof CommanderError && (commanderPrinted || err.exitCode === 0 || err.code === 'commander.help')) {
    process.exitCode = err.exitCode
  } else {
    reportFatal(err)
  }
}
await exitNow()
