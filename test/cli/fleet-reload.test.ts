import { expect } from 'chai'
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { runCli, startCli, type CliProcess } from '../helpers/run-cli.js'
import { loadOrCreateIdentity } from '../../src/client/identity-file.js'

const TABLE = 'test/fixtures/loopback-as.csv'

async function freePort (host: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, host, () => { const port = (srv.address() as { port: number }).port; srv.close(() => { resolve(port) }) })
  })
}

describe('hot reload: a running fleet seeder reloads its fleet file', function () {
  this.timeout(90_000)
  let dir: string
  let seed: CliProcess | undefined
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'swarmcdn-fleet-reload-')) })
  after(async () => {
    await seed?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('takes a newer record on a file change, refuses a broken or older one (also on SIGHUP) and keeps the held record', async () => {
    const key = join(dir, 'publisher.key')
    expect((await runCli(['keygen', '--out', key])).code).to.equal(0)
    const id = peerIdFromPrivateKey((await loadOrCreateIdentity(join(dir, 'seeder.id'))).privateKey).toString()
    const addr = `/ip4/127.1.0.1/tcp/${await freePort('127.1.0.1')}`
    const sign = async (sequence: number, out: string): Promise<void> => {
      const r = await runCli(['fleet', 'sign', '--key', key, '--sequence', String(sequence), '--seeder', `${addr}/p2p/${id}`, '--out', out])
      expect(r.code, r.stderr).to.equal(0)
    }
    const fleetFile = join(dir, 'fleet.json')
    await sign(1, join(dir, 'fleet-1.json'))
    await sign(2, join(dir, 'fleet-2.json'))
    await copyFile(join(dir, 'fleet-1.json'), fleetFile)
    seed = startCli(['seed', '--store', join(dir, 'store'), '--create-store', '--identity', join(dir, 'seeder.id'), '--listen', addr, '--fleet', fleetFile, '--prefix-table', TABLE, '--json'])
    await seed.waitFor(e => e.event === 'listening', 30_000)
    const count = (name: string): number => seed?.events.filter(e => e.event === name).length ?? 0
    await copyFile(join(dir, 'fleet-2.json'), fleetFile)
    await seed.waitFor(e => e.event === 'fleet-reloaded' && e.sequence === 2, 20_000)
    await writeFile(fleetFile, '{ "half": ')
    await seed.waitFor(e => e.event === 'fleet-refused', 20_000)
    // An older record (a stale copy put back): refused, on the change and again on SIGHUP.
    await copyFile(join(dir, 'fleet-1.json'), fleetFile)
    const isStale = (e: Record<string, unknown>): boolean => e.event === 'fleet-refused' && /older than the held record 2/.test(String(e.error))
    await seed.waitFor(isStale, 20_000)
    const staleBefore = seed.events.filter(isStale).length
    seed.child.kill('SIGHUP')
    await seed.waitFor(() => (seed?.events.filter(isStale).length ?? 0) > staleBefore, 20_000)
    expect(count('fleet-reloaded')).to.equal(1)
    expect(seed.child.exitCode).to.equal(null)
  })
})
