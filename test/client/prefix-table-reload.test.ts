import { expect } from 'chai'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AsnResolver } from '../../src/core/proximity/asn-resolver.js'
import { loadPrefixTableFiles } from '../../src/client/prefix-table-files.js'
import { watchPrefixTables } from '../../src/client/prefix-table-reload.js'
import { parseIpAddress } from '../../src/core/proximity/ip-address.js'
import { waitFor } from '../helpers/wait-for.js'

describe('client/prefix-table-reload: a new table in place, a broken one refused', function () {
  this.timeout(30_000)
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'swarmcdn-table-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('swaps in a changed file, and keeps answering from the old table when the new one is broken or empty', async () => {
    const file = join(dir, 't.csv')
    await writeFile(file, '10.0.0.0,10.0.255.255,64500,Old\n')
    const resolver = new AsnResolver(loadPrefixTableFiles([file]))
    const errors: string[] = []
    const stop = watchPrefixTables(resolver, { paths: [file], onSignal: false, pollMs: 100, onError: e => errors.push(e.message) })
    try {
      const ip = parseIpAddress('10.0.1.1')
      expect(resolver.asnOf(ip)).to.equal(64500)
      await writeFile(file, '10.0.0.0,10.0.255.255,64501,New\n')
      await waitFor('the new table', () => resolver.asnOf(ip) === 64501, 10_000)
      await writeFile(file, '10.0.0.0,not-an-address,1,Broken\n')
      await waitFor('a refusal', () => errors.length === 1, 10_000)
      expect(resolver.asnOf(ip)).to.equal(64501)
      await writeFile(file, '')
      await waitFor('a second refusal', () => errors.length === 2, 10_000)
      expect(errors[1]).to.match(/no ranges/)
      expect(resolver.asnOf(ip)).to.equal(64501)
    } finally { stop() }
  })
})
