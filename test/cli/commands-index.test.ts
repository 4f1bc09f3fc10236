import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Command } from 'commander'
import { COMMANDS, commandNamed } from '../../src/cli/commands/index.js'
import { CLI_PATH } from '../helpers/run-cli.js'

// Prints, on exit, every file: URL this process loaded (node:module hooks).
const RECORD_LOADS = 'data:text/javascript,' + encodeURIComponent(`
import { registerHooks } from 'node:module'
const seen = []
registerHooks({ load (url, context, next) { seen.push(url); return next(url, context) } })
process.on('exit', () => { process.stderr.write(seen.join('\\n') + '\\n') })
`)

/** The text of every file the CLI loaded for `args`, concatenated. */
function loadedCode (args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', RECORD_LOADS, CLI_PATH, ...args], { encoding: 'utf8', timeout: 20_000 })
  const urls = r.stderr.split('\n').filter(l => l.startsWith('file:'))
  expect(urls.length).to.be.greaterThan(1)
  return urls.map(u => readFileSync(fileURLToPath(u), 'utf8')).join('\n')
}

describe('cli/commands index', () => {
  it('finds the command an argument list runs or asks help for', () => {
    expect(commandNamed(['get', 'bafk...', '--peer', 'x'])?.name).to.equal('get')
    expect(commandNamed(['help', 'asn'])?.name).to.equal('asn')
    expect(commandNamed(['--help'])).to.equal(undefined)
    expect(commandNamed(['nope'])).to.equal(undefined)
  })

  it('loads modules that register exactly the listed command, with the listed usage', async () => {
    for (const entry of COMMANDS) {
      const program = new Command()
      ;(await entry.load())(program)
      expect(program.commands.map(c => c.name())).to.deep.equal([entry.name])
      expect(program.commands[0].usage()).to.equal(entry.usage)
    }
  })

  // By content, not by file name: the same holds for tsc's output (one file per module) and the bundle (chunks).
  it('`swarmcdn --help` loads no command module and no libp2p', () => {
    const code = loadedCode(['--help'])
    expect(code).to.not.include('function createLibp2p')
    for (const entry of COMMANDS) expect(code).to.not.match(new RegExp(`function register${entry.name}\\b`, 'i'))
  })

  it('`swarmcdn asn` loads its own command module but not libp2p', () => {
    const code = loadedCode(['asn', '127.1.0.1', '--table', 'test/fixtures/loopback-as.csv'])
    expect(code).to.match(/function registerAsn\b/)
    expect(code).to.not.include('function createLibp2p')
    expect(code).to.not.match(/function registerGet\b/)
  })

  it('`swarmcdn get` loads libp2p', () => {
    expect(loadedCode(['get', '--help'])).to.include('function createLibp2p')
  })
})
