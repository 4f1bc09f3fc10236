import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { SWARMCDN_NODE_FLAGS } from '../../src/cli/node-flags.js'

describe('cli/node-flags', () => {
  it('bin/swarmcdn.js starts node with exactly SWARMCDN_NODE_FLAGS', () => {
    const shebang = readFileSync('bin/swarmcdn.js', 'utf8').split('\n')[0]
    expect(shebang).to.equal(`#!/usr/bin/env -S node ${SWARMCDN_NODE_FLAGS.join(' ')}`)
  })

  it('names only flags this node accepts', () => {
    for (const flag of SWARMCDN_NODE_FLAGS) expect(process.allowedNodeEnvironmentFlags.has(flag.split('=')[0])).to.equal(true)
  })
})
