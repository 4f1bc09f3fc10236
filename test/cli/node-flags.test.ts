import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { SIM_NODE_FLAGS, SWARMCDN_NODE_FLAGS, simExecArgv } from '../../src/cli/node-flags.js'

describe('cli/node-flags', () => {
  it('bin/swarmcdn.js starts node with exactly SWARMCDN_NODE_FLAGS, on every path of its shell line', () => {
    const [shebang, shell] = readFileSync('bin/swarmcdn.js', 'utf8').split('\n')
    expect(shebang).to.equal('#!/bin/sh')
    const execs = [...shell.matchAll(/exec (\S+) (.*?) "\$p" "\$@"/g)]
    expect(execs.map(m => m[1])).to.deep.equal(['"$n"', 'node'])
    for (const m of execs) expect(m[2]).to.equal(SWARMCDN_NODE_FLAGS.join(' '))
  })

  it('names only flags this node accepts', () => {
    const r = spawnSync(process.execPath, [...SWARMCDN_NODE_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' })
    expect(r.stderr).to.equal('')
    expect(r.status).to.equal(0)
  })
})

describe('cli/node-flags SIM_NODE_FLAGS', () => {
  it('adds the simulator flags in place of the CLI semi-space flag, keeping the others', () => {
    const argv = simExecArgv(['--max-semi-space-size=2', '--max-old-space-size=14000'])
    expect(argv).to.deep.equal(['--max-old-space-size=14000', ...SIM_NODE_FLAGS])
  })

  it('leaves out every CLI flag (the download\'s GC tuning is not the simulator\'s)', () => {
    const argv = simExecArgv([...SWARMCDN_NODE_FLAGS, '--max-old-space-size=14000'])
    expect(argv).to.deep.equal(['--max-old-space-size=14000', ...SIM_NODE_FLAGS])
  })

  it('asks for no rerun once the process has them', () => {
    expect(simExecArgv(['--max-old-space-size=14000', ...SIM_NODE_FLAGS])).to.equal(undefined)
    expect(simExecArgv([...SIM_NODE_FLAGS, '--max-semi-space-size=2'])).to.not.equal(undefined)
  })

  it('names only flags this node accepts', () => {
    const r = spawnSync(process.execPath, [...SIM_NODE_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' })
    expect(r.stderr).to.equal('')
    expect(r.status).to.equal(0)
  })
})
