import { expect } from 'chai'
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCli, type CliProcess } from '../helpers/run-cli.js'

const TABLE = 'test/fixtures/loopback-as.csv'

describe('hot reload: a running seeder reloads its ALTO maps', function () {
  this.timeout(90_000)
  let dir: string
  let seed: CliProcess | undefined
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'swarmcdn-alto-reload-')) })
  after(async () => {
    await seed?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('on a file change and on SIGHUP, keeping the old maps while the new files do not parse or do not match', async () => {
    const nm = join(dir, 'network.json')
    const cm = join(dir, 'cost.json')
    await copyFile('test/fixtures/loopback-alto-networkmap.json', nm)
    await copyFile('test/fixtures/loopback-alto-costmap.json', cm)
    seed = startCli(['seed', '--store', join(dir, 'store'), '--create-store', '--listen', '/ip4/127.1.0.1/tcp/0', '--prefix-table', TABLE, '--alto-network-map', nm, '--alto-cost-map', cm, '--json'])
    await seed.waitFor(e => e.event === 'listening', 30_000)
    const events = (name: string): Array<Record<string, unknown>> => seed?.events.filter(e => e.event === name) ?? []
    // The ISP publishes a new version: a network map with a new tag, then its cost map. Between the
    // two writes the pair may not match (refused, old maps kept); once both are there it loads.
    const network = JSON.parse(await readFile(nm, 'utf8')) as { meta: { vtag: { tag: string } } }
    const costs = JSON.parse(await readFile(cm, 'utf8')) as { meta: { 'dependent-vtags': Array<{ tag: string }> } }
    network.meta.vtag.tag = 'v2'
    costs.meta['dependent-vtags'][0].tag = 'v2'
    await writeFile(nm, JSON.stringify(network))
    await writeFile(cm, JSON.stringify(costs))
    await seed.waitFor(e => e.event === 'alto-reloaded' && e.tag === 'v2' && e.reason === 'file-changed', 20_000)
    // A broken cost map: refused with the file named.
    const refusedBefore = events('alto-refused').length
    await writeFile(cm, 'not json')
    const refused = await seed.waitFor(e => e.event === 'alto-refused' && events('alto-refused').length > refusedBefore, 20_000)
    expect(String(refused.error)).to.match(/cost\.json is not JSON/)
    // SIGHUP reads the (still broken) files again: refused again, the v2 maps stay.
    const refusals = events('alto-refused').length
    seed.child.kill('SIGHUP')
    await seed.waitFor(() => events('alto-refused').length > refusals, 20_000)
    const reloadsBefore = events('alto-reloaded').length
    await writeFile(cm, JSON.stringify(costs))
    await seed.waitFor(() => events('alto-reloaded').length > reloadsBefore, 20_000)
    seed.child.kill('SIGHUP')
    await seed.waitFor(e => e.event === 'alto-reloaded' && e.reason === 'signal' && e.tag === 'v2', 20_000)
    // SIGHUP reloads, it does not end the seeder.
    expect(seed.child.exitCode).to.equal(null)
  })
})
