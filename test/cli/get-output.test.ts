import { expect } from 'chai'
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { gatedProvider, makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { runCli, startCli, type CliProcess } from '../helpers/run-cli.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'
import { PartialDownload } from '../../src/client/partial-download.js'

const PIECE = 64 * 1024
const PIECES = 16

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

/** The exit code of a child that is ending by itself (bounded by the test's timeout). */
async function exitCode (c: CliProcess): Promise<number | null> {
  if (c.child.exitCode != null || c.child.signalCode != null) return c.child.exitCode
  return await new Promise(resolve => c.child.once('exit', code => { resolve(code) }))
}

/** Lines a CLI run printed on stderr (one-line errors have exactly one). */
function lines (text: string): string[] {
  return text.trim().split('\n').filter(l => l.length > 0)
}

describe('cli: swarmcdn get never loses a user\'s file', function () {
  this.timeout(60_000)
  let fx: Fixture
  let seeder: OriginSeeder
  const children: CliProcess[] = []
  before(async () => {
    fx = await makeFixture(PIECES * PIECE - 999, PIECE, 'talk.mp4')
    seeder = await startOriginSeeder({ store: fx.store, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
  })
  afterEach(async () => { await Promise.all(children.splice(0).map(async c => await c.stop('SIGKILL'))) })
  after(async () => { await seeder?.stop(); await fx.store.close(); await rm(fx.dir, { recursive: true, force: true }) })

  const get = async (...args: string[]): ReturnType<typeof runCli> =>
    await runCli(['get', fx.manifest.contentId, '--peer', seeder.multiaddrs[0], ...args], { timeoutMs: 20_000, env: { SWARMCDN_DEBUG: '' } })

  it('refuses to overwrite an existing unrelated file, in one line with exit 1; --force overwrites it', async () => {
    const out = join(fx.dir, 'mine.txt')
    await writeFile(out, 'my thesis')
    const r = await get('-o', out)
    expect(r.code).to.equal(1)
    expect(lines(r.stderr)).to.deep.equal([`swarmcdn: ${out} exists; it is not this item; pass --force to overwrite it, or -o to save elsewhere`])
    expect(await readFile(out, 'utf8')).to.equal('my thesis')
    expect(await exists(PartialDownload.partialPath(out))).to.equal(false)
    expect(await exists(PartialDownload.statePath(out))).to.equal(false)
    const forced = await get('-o', out, '--force')
    expect(forced.code, forced.stderr).to.equal(0)
    expect(Buffer.compare(await readFile(out), Buffer.from(fx.data))).to.equal(0)
  })

  it('finishes at once when the output already is the complete item', async () => {
    const out = join(fx.dir, 'again.mp4')
    await writeFile(out, fx.data)
    const r = await get('-o', out, '--json')
    expect(r.code, r.stderr).to.equal(0)
    const done = r.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>).find(e => e.event === 'done')
    expect(done).to.include({ fetchedPieces: 0, resumedPieces: PIECES })
  })

  it('saves into an existing directory under the item\'s name', async () => {
    const dir = join(fx.dir, 'Downloads')
    await mkdir(dir)
    const r = await get('-o', dir)
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stderr).to.include(`saved ${join(dir, 'talk.mp4')} (`)
    expect(await readdir(dir)).to.deep.equal(['talk.mp4'])
    expect(Buffer.compare(await readFile(join(dir, 'talk.mp4')), Buffer.from(fx.data))).to.equal(0)
  })

  it('names a file that stands where a folder should be, in one line', async () => {
    const file = join(fx.dir, 'not-a-dir')
    await writeFile(file, 'x')
    const r = await get('-o', join(file, 'out.bin'))
    expect(r.code).to.equal(1)
    expect(lines(r.stderr)).to.have.length(1)
    expect(r.stderr).to.match(/^swarmcdn: cannot write .*not-a-dir\/out\.bin: .*not-a-dir is not a directory\n$/)
  })

  it('refuses an item over --max-item-size before creating any file', async () => {
    const dir = join(fx.dir, 'small-limit')
    await mkdir(dir)
    const r = await get('-o', join(dir, 'out.bin'), '--max-item-size', '512KiB')
    expect(r.code).to.equal(1)
    expect(lines(r.stderr)).to.deep.equal(['swarmcdn: talk.mp4 is 1023.0 KiB, more than the maximum item size 512.0 KiB (raise it with --max-item-size)'])
    expect(await readdir(dir)).to.deep.equal([])
  })

  it('takes over the lock of a download whose process died', async () => {
    const out = join(fx.dir, 'stale.bin')
    // pid 2^22+1 is above Linux's pid_max: never a live process.
    await writeFile(PartialDownload.lockPath(out), JSON.stringify({ pid: 4194305, hostname: hostname(), nonce: 'dead' }))
    const r = await get('-o', out)
    expect(r.code, r.stderr).to.equal(0)
    expect(Buffer.compare(await readFile(out), Buffer.from(fx.data))).to.equal(0)
    expect((await readdir(fx.dir)).filter(f => f.startsWith('stale.bin'))).to.deep.equal(['stale.bin'])
  })

  it('a second get into the same output names the pid holding it and exits 1; with --wait it waits, then finds the item done', async () => {
    // A source that holds back the last piece until released: the first get is genuinely still running.
    const gated = gatedProvider(fx.store, [PIECES - 1])
    const slow = await startOriginSeeder({ store: gated, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
    try {
      const out = join(fx.dir, 'twice.mp4')
      const args = ['get', fx.manifest.contentId, '--peer', slow.multiaddrs[0], '-o', out, '--json']
      const first = startCli(args)
      children.push(first)
      await first.waitFor(e => e.event === 'progress' && (e.verifiedPieces as number) >= 1, 20_000)
      const second = await runCli(args.filter(a => a !== '--json'), { timeoutMs: 20_000, env: { SWARMCDN_DEBUG: '' } })
      expect(second.code).to.equal(1)
      expect(lines(second.stderr)).to.deep.equal([`swarmcdn: the download into ${out} is in use by process ${String(first.child.pid)} (lock ${PartialDownload.lockPath(out)})`])
      const third = startCli([...args, '--wait'])
      children.push(third)
      const waiting = await third.waitFor(e => e.event === 'waiting', 20_000)
      expect(waiting).to.include({ reason: 'output-locked', pid: first.child.pid })
      gated.release()
      await first.waitFor(e => e.event === 'done', 20_000)
      expect(await exitCode(first)).to.equal(0)
      const done = await third.waitFor(e => e.event === 'done', 20_000)
      expect(done).to.include({ fetchedPieces: 0, resumedPieces: PIECES })
      expect(await exitCode(third)).to.equal(0)
      expect(Buffer.compare(await readFile(out), Buffer.from(fx.data))).to.equal(0)
      expect((await readdir(fx.dir)).filter(f => f.startsWith('twice.mp4')), 'no partial, state or lock file left').to.deep.equal(['twice.mp4'])
    } finally {
      await slow.stop()
    }
  })

  it('stream and peer --get refuse an output another live process holds, naming its pid', async () => {
    const out = join(fx.dir, 'held.mp4')
    // This test process holds the lock: a live pid on this host.
    await writeFile(PartialDownload.lockPath(out), JSON.stringify({ pid: process.pid, hostname: hostname(), nonce: 'test' }))
    try {
      const stream = await runCli(['stream', fx.manifest.contentId, '--peer', seeder.multiaddrs[0], '-o', out], { timeoutMs: 20_000, env: { SWARMCDN_DEBUG: '' } })
      expect(stream.code).to.equal(1)
      expect(lines(stream.stderr)).to.deep.equal([`swarmcdn: the download into ${out} is in use by process ${process.pid} (lock ${PartialDownload.lockPath(out)})`])
      expect(stream.stdout).to.not.match(/streaming/)
      const dir = join(fx.dir, 'held-dir')
      await mkdir(dir)
      await writeFile(PartialDownload.lockPath(join(dir, 'talk.mp4')), JSON.stringify({ pid: process.pid, hostname: hostname(), nonce: 'test' }))
      const peer = startCli(['peer', '--bootstrap', seeder.multiaddrs[0], '--listen', '/ip4/127.0.0.1/tcp/0', '--get', fx.manifest.contentId, '--output-dir', dir, '--json', '--prefix-table', 'test/fixtures/loopback-as.csv'])
      children.push(peer)
      const failed = await peer.waitFor(e => e.event === 'download:error', 30_000)
      expect(failed.error).to.equal(`the download into ${join(dir, 'talk.mp4')} is in use by process ${process.pid} (lock ${PartialDownload.lockPath(join(dir, 'talk.mp4'))})`)
      expect(await readdir(dir)).to.deep.equal(['talk.mp4.swarmcdn-partial.lock'])
    } finally {
      await rm(PartialDownload.lockPath(out), { force: true })
    }
  })
})
