import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { acquireFileLock, FileLockedError, isProcessAlive } from '../../src/client/file-lock.js'

/** The pid of a process that has exited (a child run to completion). */
async function deadPid (): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise(resolve => child.once('close', resolve))
  expect(child.pid).to.be.a('number')
  expect(isProcessAlive(child.pid as number)).to.equal(false)
  return child.pid as number
}

describe('client: file lock (O_EXCL file holding a pid)', function () {
  this.timeout(10_000)
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'swarmcdn-lock-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('refuses a second holder and names the pid that holds the lock', async () => {
    const path = join(dir, 'a.lock')
    const lock = await acquireFileLock(path)
    const err = await acquireFileLock(path, { what: 'out.bin' }).then(() => undefined, (e: unknown) => e)
    expect(err).to.be.instanceOf(FileLockedError)
    expect((err as FileLockedError).code).to.equal('ERR_FILE_LOCKED')
    expect((err as Error).message).to.equal(`out.bin is in use by process ${process.pid} (lock ${path})`)
    await lock.release()
    const again = await acquireFileLock(path)
    await again.release()
    expect(await readdir(dir)).to.deep.equal([])
  })

  it('takes over a lock left by a dead process', async () => {
    const path = join(dir, 'b.lock')
    await writeFile(path, JSON.stringify({ pid: await deadPid(), hostname: hostname(), nonce: 'old' }))
    const lock = await acquireFileLock(path)
    await lock.release()
    expect(await readdir(dir)).to.deep.equal([])
  })

  it('gives a dead process\'s lock to exactly one of many contenders at once, every time', async function () {
    this.timeout(60_000)
    // Many rounds: the race this guards against (a contender removing the lock another had just created) needed luck to show.
    for (let round = 0; round < 40; round++) {
      const path = join(dir, `c${round}.lock`)
      await writeFile(path, JSON.stringify({ pid: await deadPid(), hostname: hostname(), nonce: 'old' }))
      const results = await Promise.allSettled(Array.from({ length: 12 }, async () => await acquireFileLock(path)))
      const won = results.filter(r => r.status === 'fulfilled')
      expect(won, `round ${round}`).to.have.length(1)
      for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(FileLockedError)
      await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireFileLock>>>).value.release()
      expect(await readdir(dir), 'no lock, mutex or temp file left').to.deep.equal([])
    }
  })

  it('takes over a dead holder\'s lock even when a dead process left the takeover mutex behind', async () => {
    const path = join(dir, 'g.lock')
    await writeFile(path, JSON.stringify({ pid: await deadPid(), hostname: hostname(), nonce: 'old' }))
    await writeFile(`${path}.takeover`, JSON.stringify({ pid: await deadPid(), hostname: hostname(), nonce: 'oldmutex' }))
    const lock = await acquireFileLock(path)
    await lock.release()
    expect(await readdir(dir)).to.deep.equal([])
  })

  it('counts a lock held on another host, or an unreadable lock file, as held', async () => {
    const other = join(dir, 'd.lock')
    await writeFile(other, JSON.stringify({ pid: 1, hostname: 'elsewhere.example', nonce: 'x' }))
    const e1 = await acquireFileLock(other).then(() => undefined, (e: unknown) => e)
    expect((e1 as Error).message).to.match(/in use by process 1 on elsewhere\.example/)
    const junk = join(dir, 'e.lock')
    await writeFile(junk, 'not json')
    const e2 = await acquireFileLock(junk).then(() => undefined, (e: unknown) => e)
    expect((e2 as Error).message).to.match(/in use by another process \(unreadable lock file\)/)
  })

  it('with wait, gets the lock once the holder releases it, and stops waiting on abort', async () => {
    const path = join(dir, 'f.lock')
    const held = await acquireFileLock(path)
    let waited = 0
    const waiting = acquireFileLock(path, { wait: true, pollMs: 10, onWait: () => { waited++ } })
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now()
      const check = (): void => { if (waited > 0) resolve(); else if (Date.now() - t0 > 5000) reject(new Error('never waited')); else setTimeout(check, 10) }
      check()
    })
    await held.release()
    const next = await waiting
    expect(waited).to.equal(1)
    const ac = new AbortController()
    const blocked = acquireFileLock(path, { wait: true, pollMs: 10, signal: ac.signal })
    ac.abort(new Error('gave up'))
    const err = await blocked.then(() => undefined, (e: unknown) => e)
    expect((err as Error).message).to.equal('gave up')
    await next.release()
  })
})
