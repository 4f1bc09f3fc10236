import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli, type CliProcess } from '../helpers/run-cli.js'

const TABLE = 'test/fixtures/loopback-as.csv'

describe('hot reload: a running seeder follows its store and its prefix table', function () {
  this.timeout(90_000)
  let dir: string
  let seed: CliProcess | undefined
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarmcdn-reload-'))
    expect((await runCli(['keygen', '--out', join(dir, 'k')])).code).to.equal(0)
  })
  after(async () => {
    await seed?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('serves and announces an item published into its store, then withdraws it after unpublish, without a restart', async () => {
    const store = join(dir, 'store')
    seed = startCli(['seed', '--store', store, '--create-store', '--listen', '/ip4/127.1.0.1/tcp/0', '--prefix-table', TABLE, '--json'])
    const listening = await seed.waitFor(e => e.event === 'listening', 30_000)
    const addr = (listening.multiaddrs as string[])[0]
    await writeFile(join(dir, 'clip.bin'), randomBytes(50_000))
    const pub = await runCli(['publish', join(dir, 'clip.bin'), '--key', join(dir, 'k'), '--store', store])
    expect(pub.code, pub.stderr).to.equal(0)
    const id = pub.stdout.trim()
    await seed.waitFor(e => e.event === 'store-changed' && (e.added as string[]).includes(id), 15_000)
    await seed.waitFor(e => e.event === 'provider:announced' && e.contentId === id, 15_000)
    const got = await runCli(['get', id, '--peer', addr, '-o', join(dir, 'got.bin'), '--prefix-table', TABLE], { timeoutMs: 30_000 })
    expect(got.code, got.stderr).to.equal(0)

    const un = await runCli(['unpublish', id, '--store', store])
    expect(un.code, un.stderr).to.equal(0)
    expect(un.stdout).to.equal(`removed ${id} from ${store}\n`)
    await seed.waitFor(e => e.event === 'store-changed' && (e.removed as string[]).includes(id), 15_000)
    await seed.waitFor(e => e.event === 'provider:withdrawn' && e.contentId === id, 15_000)
    const gone = await runCli(['get', id, '--peer', addr, '-o', join(dir, 'gone.bin'), '--prefix-table', TABLE], { timeoutMs: 30_000 })
    expect(gone.code).to.equal(1)
    expect(gone.stderr).to.match(/does not have this content/)
    // Unpublishing what is not there is one clear line.
    const again = await runCli(['unpublish', id, '--store', store])
    expect(again.code).to.equal(1)
    expect(again.stderr).to.match(/no item .* in this store/)
    await seed.stop()
    seed = undefined
  })

  it('reloads the prefix table on a file change and on SIGHUP, and keeps the old one when the new one does not parse', async () => {
    const table = join(dir, 'table.csv')
    await copyFile(TABLE, table)
    seed = startCli(['seed', '--store', join(dir, 'store'), '--listen', '/ip4/127.1.0.1/tcp/0', '--prefix-table', table, '--json'])
    await seed.waitFor(e => e.event === 'listening', 30_000)
    await writeFile(table, '127.0.0.0,127.0.255.255,64600,Loopback Default\n127.1.0.0,127.1.255.255,64601,A\n')
    await seed.waitFor(e => e.event === 'prefix-table-reloaded' && e.ranges === 2 && e.reason === 'file-changed', 20_000)
    await writeFile(table, 'this is not a prefix table\n')
    const refused = await seed.waitFor(e => e.event === 'prefix-table-refused', 20_000)
    expect(String(refused.error)).to.match(/table\.csv/)
    seed.child.kill('SIGHUP')
    await seed.waitFor(e => e.event === 'prefix-table-refused' && seed?.events.filter(x => x.event === 'prefix-table-refused').length === 2, 20_000)
    await copyFile(TABLE, table)
    await seed.waitFor(e => e.event === 'prefix-table-reloaded' && e.ranges === 7, 20_000)
    seed.child.kill('SIGHUP')
    await seed.waitFor(e => e.event === 'prefix-table-reloaded' && e.reason === 'signal', 20_000)
    // Still running: SIGHUP reloads, it does not end the seeder.
    expect(seed.child.exitCode).to.equal(null)
  })
})
