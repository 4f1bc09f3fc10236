import { expect } from 'chai'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { NAMED_PREFIX_TABLES, resolvePrefixTableArg } from '../../src/cli/prefix-table-arg.js'

describe('cli/prefix-table-arg', () => {
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'swarmcdn-table-arg-')) })
  afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

  it('finds a shipped table by name from any folder', () => {
    expect(resolvePrefixTableArg('loopback', dir)).to.equal(resolve(NAMED_PREFIX_TABLES.loopback))
    expect(resolvePrefixTableArg('loopback-pfx2as', dir)).to.equal(resolve(NAMED_PREFIX_TABLES['loopback-pfx2as']))
  })

  it('finds a shipped table by its path in the package when the folder has no such file', () => {
    expect(resolvePrefixTableArg('test/fixtures/loopback-as.csv', dir)).to.equal(resolve('test/fixtures/loopback-as.csv'))
    expect(resolvePrefixTableArg('./test/fixtures/loopback-as.csv', dir)).to.equal(resolve('test/fixtures/loopback-as.csv'))
  })

  it('prefers a file in the current folder, kept as typed, even one named like a shipped table', () => {
    writeFileSync(join(dir, 'loopback'), '127.0.0.0,127.255.255.255,1,x\n')
    mkdirSync(join(dir, 'test/fixtures'), { recursive: true })
    writeFileSync(join(dir, 'test/fixtures/loopback-as.csv'), '')
    expect(resolvePrefixTableArg('loopback', dir)).to.equal('loopback')
    expect(resolvePrefixTableArg('test/fixtures/loopback-as.csv', dir)).to.equal('test/fixtures/loopback-as.csv')
  })

  it('leaves an unknown missing path as typed, for the read to report', () => {
    expect(resolvePrefixTableArg('nope.csv', dir)).to.equal('nope.csv')
  })
})
