import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli, type CliProcess } from '../helpers/run-cli.js'

const TABLE = 'test/fixtures/loopback-as.csv'
const RATE = 256 * 1024
const ITEM = 768 * 1024

describe('--as-upload-limit: a seeder caps what it sends into one AS (loopback test ASes)', function () {
  this.timeout(90_000)
  let dir: string
  let seed: CliProcess | undefined
  const data = new Uint8Array(randomBytes(ITEM))
  after(async () => {
    await seed?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('serves AS 64602 at its cap and AS 64603 at full speed, both with verified bytes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarmcdn-as-limit-'))
    expect((await runCli(['keygen', '--out', join(dir, 'k')])).code).to.equal(0)
    await writeFile(join(dir, 'item.bin'), data)
    const pub = await runCli(['publish', join(dir, 'item.bin'), '--key', join(dir, 'k'), '--store', join(dir, 'store'), '--piece-size', '64KiB'])
    expect(pub.code, pub.stderr).to.equal(0)
    const id = pub.stdout.trim()
    seed = startCli(['seed', '--store', join(dir, 'store'), '--listen', '/ip4/127.1.0.1/tcp/0', '--prefix-table', TABLE, '--as-upload-limit', `AS64602=${RATE}`, '--json'])
    const addr = ((await seed.waitFor(e => e.event === 'listening', 30_000)).multiaddrs as string[])[0]
    const get = async (listen: string, name: string): Promise<number> => {
      const r = await runCli(['get', id, '--peer', addr, '--listen', listen, '--prefix-table', TABLE, '-o', join(dir, name), '--json'], { timeoutMs: 60_000 })
      expect(r.code, r.stderr).to.equal(0)
      expect(Buffer.from(await readFile(join(dir, name))).equals(Buffer.from(data))).to.equal(true)
      const done = r.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, number>).find(e => (e as unknown as { event: string }).event === 'done')
      return done?.elapsedMs as number
    }
    const capped = await get('/ip4/127.2.0.1/tcp/0', 'capped.bin')
    const free = await get('/ip4/127.3.0.1/tcp/0', 'free.bin')
    // The bucket lets one 64 KiB burst through, then 256 KiB/s: at least (768 - 64) / 256 s.
    const floorMs = (ITEM - 64 * 1024) / RATE * 1000
    expect(capped).to.be.at.least(floorMs * 0.95)
    expect(free).to.be.below(capped)
    console.log(`      AS 64602 (capped at 256 KiB/s): ${capped} ms; AS 64603: ${free} ms`)
  })

  it('refuses a malformed AS=RATE with one clear line', async () => {
    const r = await runCli(['seed', '--store', join(dir, 'store'), '--as-upload-limit', '64602'])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.match(/not AS=RATE: 64602/)
  })
})
