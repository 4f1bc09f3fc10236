import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
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

function loadedBy (args: string[]): string[] {
  const r = spawnSync(process.execPath, ['--import', RECORD_LOADS, CLI_PATH, ...args], { encoding: 'utf8', timeout: 20_000 })
  return r.stderr.split('\n').filter(l => l.startsWith('file:'))
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

  it('`swarmcdn --help` loads no command module and no libp2p', () => {
    const loaded = loadedBy(['--help'])
    expect(loaded.some(u => u.endsWith('/cli/main.js') || u.includes('/dist/cli/'))).to.equal(true)
    expect(loaded.filter(u => /\/commands\/(?!index\.js)/.test(u) || u.includes('/node_modules/libp2p/'))).to.deep.equal([])
  })

  it('`swarmcdn asn` loads its own command module but not libp2p', () => {
    const loaded = loadedBy(['asn', '127.1.0.1', '--table', 'test/fixtures/loopback-as.csv'])
    expect(loaded.some(u => u.includes('/commands/asn.js') || u.includes('/dist/cli/'))).to.equal(true)
    expect(loaded.filter(u => u.includes('/node_modules/libp2p/') || u.includes('/commands/get.js'))).to.deep.equal([])
  })
})
