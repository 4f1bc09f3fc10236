import { expect } from 'chai'
import { readFileSync } from 'node:fs'
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

  it('the top-level help lists every command with its arguments', async () => {
    const r = await runCli(['--help'])
    expect(r.code).to.equal(0)
    for (const entry of COMMANDS) expect(r.stdout).to.match(new RegExp(`\\n  ${entry.name} ${entry.usage.replace(/[[\]]/g, '\\$&')}\\s`))
  })
})
