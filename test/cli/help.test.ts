import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { SWARMCDN_NODE_FLAGS } from '../../src/cli/node-flags.js'
import { COMMANDS } from '../../src/cli/commands/index.js'
import { runCli } from '../helpers/run-cli.js'

describe('cli: help and version', function () {
  this.timeout(60_000)

  for (const entry of COMMANDS) {
    it(`${entry.name} --help shows its usage and an example of the command`, async () => {
      const r = await runCli([entry.name, '--help'])
      expect(r.code).to.equal(0)
      expect(r.stdout).to.include(`Usage: swarmcdn ${entry.name} ${entry.usage}`)
      expect(r.stdout).to.match(new RegExp(`\\nExample:\\n\\s+\\$ swarmcdn ${entry.name} `))
    })
  }

  it('--version and -V print the version in package.json', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag])
      expect(r.code).to.equal(0)
      expect(r.stdout).to.equal(`${version}\n`)
    }
  })

  it('a reader that closes early (`| head`) ends the command quietly, without a stack trace', async () => {
    // `true` exits without reading, so the help is written into a closed pipe (EPIPE) in most of the tries.
    for (let i = 0; i < 3; i++) {
      const r = spawnSync('sh', ['-c', `"${process.execPath}" bin/swarmcdn.js keygen --help | true`], { encoding: 'utf8', timeout: 30_000 })
      expect(r.status).to.equal(0)
      expect(r.stderr).to.not.include('EPIPE')
      expect(r.stderr).to.not.include('Error')
    }
  })

  it('the top-level help lists every command with its arguments', async () => {
    const r = await runCli(['--help'])
    expect(r.code).to.equal(0)
    for (const entry of COMMANDS) expect(r.stdout).to.match(new RegExp(`\\n  ${entry.name} ${entry.usage.replace(/[[\]]/g, '\\$&')}\\s`))
  })
})

describe('cli: the launcher as a command', function () {
  this.timeout(30_000)

  it('runs on the Node installed with swarmcdn, with SWARMCDN_NODE_FLAGS, whatever node the PATH has', () => {
    const script = 'process.stdout.write(JSON.stringify({ version: process.version, execArgv: process.execArgv }))'
    // The launcher runs any file it is given as the module; run its shell line with a probe module instead.
    const dir = mkdtempSync(join(tmpdir(), 'swarmcdn-launcher-'))
    try {
      mkdirSync(join(dir, 'bin'))
      const shellLine = readFileSync('bin/swarmcdn.js', 'utf8').split('\n').slice(0, 2).join('\n')
      writeFileSync(join(dir, 'bin', 'probe.js'), `${shellLine}\n${script}\n`, { mode: 0o755 })
      symlinkSync(resolve('node_modules'), join(dir, 'node_modules'))
      const r = spawnSync(join(dir, 'bin', 'probe.js'), [], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, timeout: 20_000 })
      expect(r.status, r.stderr).to.equal(0)
      const { version, execArgv } = JSON.parse(r.stdout) as { version: string, execArgv: string[] }
      expect(version).to.equal(`v${(JSON.parse(readFileSync('node_modules/node/package.json', 'utf8')) as { version: string }).version}`)
      expect(execArgv).to.deep.equal([...SWARMCDN_NODE_FLAGS])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('cli: the launcher started by an old node', function () {
  this.timeout(30_000)
  const OLD_NODE = '/usr/bin/node'
  const major = Number(spawnSync(OLD_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout?.split('.')[0])

  it('hands over to the bundled Node (skipped without a node older than 22 at /usr/bin/node)', function () {
    if (!(major < 22)) this.skip()
    const r = spawnSync(OLD_NODE, ['bin/swarmcdn.js', 'asn', '127.1.0.1', '--table', 'loopback'], { encoding: 'utf8', timeout: 20_000 })
    expect(r.status, r.stderr).to.equal(0)
    expect(r.stdout).to.equal('127.1.0.1\tAS64601\tLoopback Net A\n')
  })
})
