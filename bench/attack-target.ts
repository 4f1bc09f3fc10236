/**
 * The server that bench/under-attack.ts attacks, in a process of its own
 * (forked, with the V8 flags a `swarmcdn` command runs with), so that its
 * resident memory can be sampled apart from the attackers and the client.
 * It starts one origin seeder, web seed or streaming gateway with the
 * benchmark's options, tells the parent where it listens, answers "stats"
 * with its defence counters, and stops on "stop".
 */
import { fork, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ContentStore } from '../src/store/content-store.js'
import { startOriginSeeder } from '../seeders/origin-seeder.js'
import { startWebSeed } from '../seeders/web-seed.js'
import { startStreamingGateway } from '../src/client/streaming-gateway.js'
import { offenderGuardOf } from '../src/net/offender-guard.js'
import { parseContentId } from '../src/core/content/content-id.js'
import { SWARMCDN_NODE_FLAGS } from '../src/cli/node-flags.js'

/** Which server, on what. */
export interface AttackTargetInit {
  kind: 'seeder' | 'web seed' | 'gateway'
  storeDir: string
  contentId: string
  /** The item's bytes (the gateway serves them from memory, as a finished download). */
  itemPath: string
  /** Seeder stall and idle-slot timeout, ms. */
  stallMs: number
  /**
   * Seeder: provider records one network may store (default 10 000), with
   * loopback addresses counted as networks, so that a flood from 127.x.y.z
   * meets the quota it would meet from a public /24. Default: the seeder's
   * defaults, loopback exempt.
   */
  providerRecordsPerNetwork?: number
}

/** Defence counters of the running server. */
export interface AttackTargetStats {
  /** Non-reading streams reset (seeder). */
  stalls: number
  /** Peers banned (seeder). */
  bans: number
  /** Attack sockets refused, evicted or cut (HTTP servers). */
  cut: number
  /** Provider records held (seeder). */
  providerRecords: number
}

/** A running target, seen from the benchmark. */
export interface AttackTarget {
  pid: number
  /** libp2p multiaddr (seeder) or base URL (HTTP servers). */
  address: string
  stats: () => Promise<AttackTargetStats>
  stop: () => Promise<void>
}

type Reply = { type: 'ready', address: string } | { type: 'stats', stats: AttackTargetStats } | { type: 'error', message: string }

/** Forks a target and resolves once it listens (rejects after `timeoutMs`). */
export async function startAttackTarget (init: AttackTargetInit, timeoutMs = 30_000): Promise<AttackTarget> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [JSON.stringify(init)], { execArgv: [...SWARMCDN_NODE_FLAGS], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  const next = async (type: Reply['type']): Promise<Reply> => await new Promise((resolve, reject) => {
    const t = setTimeout(() => { cleanup(); reject(new Error(`attack target (${init.kind}) sent no ${type} in ${timeoutMs} ms`)) }, timeoutMs)
    const onMessage = (m: Reply): void => {
      if (m.type === 'error') { cleanup(); reject(new Error(`attack target (${init.kind}): ${m.message}`)) } else if (m.type === type) { cleanup(); resolve(m) }
    }
    const onExit = (): void => { cleanup(); reject(new Error(`attack target (${init.kind}) exited`)) }
    const cleanup = (): void => { clearTimeout(t); child.off('message', onMessage); child.off('exit', onExit) }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
  let ready: Reply
  try {
    ready = await next('ready')
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
  return {
    pid: child.pid as number,
    address: (ready as { address: string }).address,
    stats: async () => {
      const reply = next('stats')
      child.send({ type: 'stats' })
      return ((await reply) as { stats: AttackTargetStats }).stats
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const t = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
      child.send({ type: 'stop' })
      await exited
      clearTimeout(t)
    }
  }
}

/** The child's side: serve until told to stop. */
async function serve (init: AttackTargetInit): Promise<void> {
  const send = (m: Reply): void => { process.send?.(m) }
  const store = await ContentStore.open(init.storeDir)
  let stats: () => AttackTargetStats
  let stop: () => Promise<void>
  let address: string
  if (init.kind === 'seeder') {
    const origin = await startOriginSeeder({
      store,
      listenMultiaddrs: ['/ip4/127.1.0.1/tcp/0'],
      node: { inboundConnectionsPerSecPerHost: 1000, maxIncomingPendingConnections: 100 },
      xfer: { stallTimeoutMs: init.stallMs },
      upload: { idleSlotMs: init.stallMs },
      ...(init.providerRecordsPerNetwork != null
        ? { overlay: { providerAdmission: { exemptLocalNetworks: false }, dht: { providerStore: { maxRecordsPerNetwork: init.providerRecordsPerNetwork } } } }
        : {})
    })
    address = origin.multiaddrs[0]
    stats = () => ({ stalls: origin.peer.swarm.gate.stallsSeen, bans: offenderGuardOf(origin.node).bans, cut: 0, providerRecords: origin.overlay.status().providerRecords ?? 0 })
    stop = async () => { await origin.stop() }
  } else {
    const server = init.kind === 'web seed'
      ? await startWebSeed({ store })
      : await (async () => {
        const manifest = store.manifest(parseContentId(init.contentId))
        if (manifest == null) throw new Error(`no item ${init.contentId} in ${init.storeDir}`)
        const data = await readFile(init.itemPath)
        return await startStreamingGateway({ downloads: { get: id => id === manifest.contentId ? { manifest, read: async function * (s, e) { yield data.subarray(s, e + 1) } } : undefined } })
      })()
    address = server.url
    stats = () => { const c = server.connections(); return { stalls: 0, bans: 0, cut: c.refused + c.evicted + c.tooSlow, providerRecords: 0 } }
    stop = async () => { await server.close() }
  }
  process.on('message', (m: { type: string }) => {
    if (m.type === 'stats') send({ type: 'stats', stats: stats() })
    if (m.type === 'stop') void stop().then(async () => { await store.close() }).finally(() => process.exit(0))
  })
  // The parent gone (killed benchmark): do not linger.
  process.on('disconnect', () => { process.exit(0) })
  send({ type: 'ready', address })
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await serve(JSON.parse(process.argv[2]) as AttackTargetInit)
  } catch (err) {
    process.send?.({ type: 'error', message: (err as Error).message })
    process.exit(1)
  }
}
