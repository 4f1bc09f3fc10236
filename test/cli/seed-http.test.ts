import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { mkdtemp, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { CLI_PATH, runCli } from '../helpers/run-cli.js'
import { openSignedManifest } from '../../src/core/content/manifest.js'

describe('cli: seed --http', function () {
  this.timeout(60_000)
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'swarmcdn-seed-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('serves the same item over libp2p and HTTP, reports both as JSON, and stops on SIGINT', async () => {
    const data = randomBytes(70_000)
    await writeFile(join(dir, 'clip.webm'), data)
    expect((await runCli(['keygen', '--out', join(dir, 'p.key')])).code).to.equal(0)
    const id = (await runCli(['publish', join(dir, 'clip.webm'), '--key', join(dir, 'p.key'), '--store', join(dir, 'store'), '--piece-size', '16KiB'])).stdout.trim()
    const child = spawn(process.execPath, [CLI_PATH, 'seed', '--store', join(dir, 'store'), '--listen', '/ip4/127.0.0.1/tcp/0', '--http', '127.0.0.1:0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    try {
      const lines = createInterface({ input: child.stdout })
      const [first] = await once(lines, 'line') as [string]
      const listening = JSON.parse(first) as { event: string, http: string, multiaddrs: string[], items: number }
      expect(listening).to.include({ event: 'listening', items: 1 })
      expect(listening.multiaddrs[0]).to.match(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
      const ranged = await fetch(`${listening.http}/c/${id}`, { headers: { Range: 'bytes=100-199' } })
      expect(ranged.status).to.equal(206)
      expect(Buffer.from(await ranged.arrayBuffer()).equals(data.subarray(100, 200))).to.equal(true)
      const manifest = await fetch(`${listening.http}/c/${id}/manifest`)
      expect(openSignedManifest(new Uint8Array(await manifest.arrayBuffer()), id).lengthBytes).to.equal(70_000)
      child.kill('SIGINT')
      const [next] = await once(lines, 'line') as [string]
      expect(JSON.parse(next)).to.deep.equal({ event: 'stopped' })
      const [code] = await once(child, 'close') as [number]
      expect(code).to.equal(0)
    } finally {
      clearTimeout(timer)
      child.kill('SIGKILL')
    }
  })
})
