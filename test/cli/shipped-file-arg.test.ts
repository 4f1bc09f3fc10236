import { expect } from 'chai'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { resolveScenarioArg } from '../../src/cli/shipped-file-arg.js'

describe('cli/shipped-file-arg', () => {
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'swarmcdn-scenario-arg-')) })
  afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

  it('finds a shipped scenario by name or by its path in the package, from any folder', () => {
    const shipped = resolve('sim/scenarios/flash-crowd-small.json')
    expect(resolveScenarioArg('flash-crowd-small', dir)).to.equal(shipped)
    expect(resolveScenarioArg('flash-crowd-small.json', dir)).to.equal(shipped)
    expect(resolveScenarioArg('sim/scenarios/flash-crowd-small.json', dir)).to.equal(shipped)
  })

  it('prefers a file in the current folder, as given, and leaves unknown names as typed', () => {
    mkdirSync(join(dir, 'sim/scenarios'), { recursive: true })
    writeFileSync(join(dir, 'sim/scenarios/flash-crowd-small.json'), '{}')
    expect(resolveScenarioArg('sim/scenarios/flash-crowd-small.json', dir)).to.equal('sim/scenarios/flash-crowd-small.json')
    expect(resolveScenarioArg('no-such-scenario', dir)).to.equal('no-such-scenario')
    expect(resolveScenarioArg('../x/y.json', dir)).to.equal('../x/y.json')
  })
})
