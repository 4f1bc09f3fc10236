import { expect } from 'chai'
import { readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { runCli, startCli, type CliProcess } from '../helpers/run-cli.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'
import { PartialDownload, type PartialState } from '../../src/client/partial-download.js'
import { Bitfield } from '../../src/core/swarm/bitfield.js'
import type { ContentProvider } from '../../src/net/content-provider.js'

const PIECE = 256 * 1024
const PIECES = 24
/** Seeder delay per piece while the downloads run: the signal lands mid-download. */
const SLOW_PIECE_MS = 150
/** The bound the issue asks for: from the signal to the process gone. */
const EXIT_WITHIN_MS = 1000

/** A seeder's provider whose delay can change, recording which pieces it serves after `reset`. */
function switchableProvider (inner: ContentProvider): ContentProvider & { reads: number[], reset: (delayMs: number) => void } {
  let delayMs = 0
  let generation = 0
  const p = {
    reads: [] as number[],
    reset: (ms: number) => { generation++; p.reads = []; delayMs = ms },
    has: (id: string) => inner.has(id),
    manifest: (id: string) => inner.manifest(id),
    readPiece: async (id: string, index: number) => {
      const g = generation
      if (delayMs > 0) await new Promise(resolve => setTimeout(resolve, delayMs))
      if (g === generation) p.reads.push(index)
      return await inner.readPiece(id, index)
    }
  }
  return p
}

async function savedPieces (out: string): Promise<Bitfield> {
  const state = JSON.parse(await readFile(PartialDownload.statePath(out), 'utf8')) as PartialState
  return Bitfield.fromBytes(new Uint8Array(Buffer.from(state.verified, 'base64')), PIECES)
}

/** Sends `signal` and resolves with the exit code and how long the process took to go, ms. */
async function signalAndTime (c: CliProcess, signal: NodeJS.Signals): Promise<{ code: number | null, ms: number }> {
  const t0 = performance.now()
  const exited = new Promise<number | null>(resolve => c.child.once('exit', code => { resolve(code) }))
  c.child.kill(signal)
  const code = await exited
  return { code, ms: performance.now() - t0 }
}

describe('cli: swarmcdn get on SIGTERM/SIGINT saves its state and exits at once', function () {
  this.timeout(60_000)
  let fx: Fixture
  let provider: ReturnType<typeof switchableProvider>
  let seeder: OriginSeeder
  const children: CliProcess[] = []
  before(async () => {
    fx = await makeFixture(PIECES * PIECE - 4321, PIECE)
    provider = switchableProvider(fx.store)
    seeder = await startOriginSeeder({ store: provider, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
  })
  afterEach(async () => { await Promise.all(children.splice(0).map(async c => await c.stop('SIGKILL'))) })
  after(async () => { await seeder?.stop(); await fx.store.close(); await rm(fx.dir, { recursive: true, force: true }) })

  it(`two running downloads exit within ${EXIT_WITHIN_MS} ms of SIGTERM and SIGINT, and the resumes re-fetch no verified piece`, async () => {
    provider.reset(SLOW_PIECE_MS)
    const outs = [join(fx.dir, 'a.bin'), join(fx.dir, 'b.bin')]
    const gets = outs.map(out => startCli(['get', fx.manifest.contentId, '--peer', seeder.multiaddrs[0], '-o', out, '--json']))
    children.push(...gets)
    const reported = await Promise.all(gets.map(async g => (await g.waitFor(e => e.event === 'progress' && (e.verifiedPieces as number) >= 3, 30_000)).verifiedPieces as number))
    const [a, b] = await Promise.all([signalAndTime(gets[0], 'SIGTERM'), signalAndTime(gets[1], 'SIGINT')])
    for (const [i, r] of [a, b].entries()) {
      expect(r.code, gets[i].stderr()).to.equal(1)
      expect(r.ms, `exit took ${r.ms.toFixed(0)} ms`).to.be.below(EXIT_WITHIN_MS)
      expect(gets[i].stderr()).to.equal('swarmcdn: interrupted; run the same command again to resume\n')
      expect(gets[i].events.some(e => e.event === 'done'), 'the signal must land mid-download').to.equal(false)
    }
    // Every piece the last progress line reported verified is in the state file (the stop saved it).
    const saved = await Promise.all(outs.map(savedPieces))
    for (const [i, s] of saved.entries()) expect(s.count).to.be.within(reported[i], PIECES - 1)

    for (const [i, out] of outs.entries()) {
      provider.reset(0)
      const r = await runCli(['get', fx.manifest.contentId, '--peer', seeder.multiaddrs[0], '-o', out, '--json'], { timeoutMs: 20_000 })
      expect(r.code, r.stderr).to.equal(0)
      const done = r.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>).find(e => e.event === 'done')
      expect(done).to.include({ resumedPieces: saved[i].count, fetchedPieces: PIECES - saved[i].count })
      expect(provider.reads.filter(p => saved[i].get(p)), 'verified pieces fetched again').to.deep.equal([])
      expect(provider.reads).to.have.length(PIECES - saved[i].count)
      expect(Buffer.compare(await readFile(out), Buffer.from(fx.data))).to.equal(0)
      expect(await stat(PartialDownload.statePath(out)).then(() => true, () => false)).to.equal(false)
    }
  })
})
