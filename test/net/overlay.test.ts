import { expect } from 'chai'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { createSwarmNode, type SwarmNode } from '../../src/net/swarm-node.js'
import { OverlayService } from '../../src/net/overlay-service.js'
import { AsnResolver } from '../../src/core/proximity/asn-resolver.js'
import { loadPrefixTableFiles } from '../../src/client/prefix-table-files.js'
import { contentIdOf } from '../../src/core/content/content-id.js'
import type { OverlayRole } from '../../src/core/tier/supernode-policy.js'
import { DHT_PROTOCOL } from '../../src/net/protocol-ids.js'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { MAX_DHT_MESSAGE_BYTES } from '../../src/core/messages/dht-messages.js'
import { waitFor, LOOPBACK_LIMITS } from '../helpers/wait-for.js'
import { FAST_OVERLAY as FAST } from '../helpers/fast-overlay.js'

const TABLE = fileURLToPath(new URL('../../../test/fixtures/loopback-as.csv', import.meta.url))



interface Member { node: SwarmNode, overlay: OverlayService, role: OverlayRole, ip: string }

describe('net/overlay (real libp2p on loopback)', function () {
  // Bounds are generous: 31 libp2p nodes share one process, and CI machines may be loaded.
  this.timeout(180_000)
  const resolver = new AsnResolver(loadPrefixTableFiles([TABLE]))
  const members: Member[] = []

  async function spawn (role: OverlayRole, ip: string, bootstrap: string[]): Promise<Member> {
    const node = await createSwarmNode({ listenMultiaddrs: [`/ip4/${ip}/tcp/0`], ...LOOPBACK_LIMITS })
    const overlay = new OverlayService(node, { ...FAST, role, bootstrap, asnResolver: resolver })
    if (process.env.OVERLAY_DEBUG != null) for (const ev of ['supernode:detached', 'overlay:error', 'peer:penalized'] as const) overlay.addEventListener(ev, e => { console.log(ip, ev, JSON.stringify(e.detail)) })
    await overlay.start()
    const m = { node, overlay, role, ip }
    members.push(m)
    return m
  }

  async function stop (m: Member): Promise<void> {
    await m.overlay.stop()
    await m.node.stop()
  }

  after(async () => {
    await Promise.allSettled(members.map(stop))
  })

  const addrOf = (m: Member): string => m.node.getMultiaddrs()[0].toString()
  const item = contentIdOf(randomBytes(64))
  let seeder: Member
  const supers: Member[] = []
  const leaves: Member[] = []

  it('31 nodes: every leaf finds the seeder and announcing leaves as providers, nearest first', async () => {
    seeder = await spawn('seeder', '127.1.0.1', [])
    seeder.overlay.announce(item)
    for (let i = 0; i < 6; i++) supers.push(await spawn('supernode', `127.${2 + (i % 3)}.0.${10 + i}`, [addrOf(seeder)]))
    await waitFor('supernodes in the seeder\'s routing table', () => seeder.overlay.status().routingTableSize >= 6, 30_000)
    const boot = [addrOf(seeder), addrOf(supers[0])]
    for (let i = 0; i < 24; i++) leaves.push(await spawn('leaf', `127.${2 + (i % 3)}.1.${10 + i}`, boot))
    const ms = await waitFor('every leaf attached to 3 supernodes', () => leaves.every(l => l.overlay.status().attached.length >= 3), 120_000)
    // Leaves rank the origin seeder last (its upload is for content): without that about 3 of 7
    // servers' worth, ~10 of 24 leaves, would attach to it; only a leaf whose attach to a
    // supernode timed out (backoff) falls back to it.
    const attachedToSeeder = leaves.filter(l => l.overlay.status().attached.some(a => a.peerId === seeder.node.peerId.toString())).length
    expect(attachedToSeeder, 'leaves attached to the origin seeder').to.be.at.most(6)
    // Three leaves (in three ASes) announce the item.
    const announcers = [leaves[0], leaves[1], leaves[2]]
    for (const a of announcers) a.overlay.announce(item)
    // Announcing is asynchronous (the records reach the announcers' supernodes over the network): wait until a
    // leaf that announced nothing finds all three, however loaded the machine, then ask every leaf.
    const probe = leaves[leaves.length - 1]
    await waitFor('the three announcements to be findable', async () => {
      const found = new Set((await probe.overlay.findProviders(item, { signal: AbortSignal.timeout(30_000) })).map(p => p.peerId))
      return announcers.every(a => found.has(a.node.peerId.toString()))
    }, 60_000, 250)
    // A supernode reuses the announcers a lookup named for a key for announcerCacheTtlMs (30 s), so one whose last
    // lookup came before the third announcement answers without it until then: each leaf asks again, up to 45 s.
    let repeats = 0
    const results = await Promise.all(leaves.map(async l => {
      const others = announcers.filter(a => a !== l).map(a => a.node.peerId.toString())
      const until = Date.now() + 45_000
      for (;;) {
        const providers = await l.overlay.findProviders(item, { signal: AbortSignal.timeout(30_000) })
        const ids = new Set(providers.map(p => p.peerId))
        if (others.every(id => ids.has(id)) || Date.now() > until) return providers
        repeats++
        await new Promise(resolve => setTimeout(resolve, 1000))
      }
    }))
    // Open (docs/decisions/2026-11-22-leaf-query-budget-under-load.md): in 3 of 5 full-suite runs beside two CPU
    // burners 1-4 leaves of 24 kept missing one of the other announcers through 45 s of asking (never in 32 runs of
    // this file alone, quiet or beside the burners). Every leaf must find at least one; at most half may miss one.
    let missing = 0
    // On a miss, say where the records were (the open question above): who the asker and the missed announcer are
    // attached to, and which providers each DHT member's store answers with now.
    const nameOf = new Map<string, string>([[seeder.node.peerId.toString(), 'seed'], ...supers.map((s, i) => [s.node.peerId.toString(), `s${i}`] as [string, string]), ...leaves.map((l, i) => [l.node.peerId.toString(), `leaf${i}`] as [string, string])])
    const named = (id: string): string => nameOf.get(id) ?? id.slice(-6)
    const attachedOf = (n: Member): string => n.overlay.status().attached.map(a => named(a.peerId)).join(',')
    const records = (): string => [seeder, ...supers].map(m => `${named(m.node.peerId.toString())}:[${m.overlay.providersStored(item).map(named).join(',')}]`).join(' ')
    for (const [i, providers] of results.entries()) {
      const absent = announcers.filter(a => a !== leaves[i] && !providers.some(p => p.peerId === a.node.peerId.toString()))
      if (absent.length > 0) console.log(`      leaf${i} (attached ${attachedOf(leaves[i])}) missed ${absent.map(a => `${named(a.node.peerId.toString())} (attached ${attachedOf(a)})`).join(', ')}; records: ${records()}`)
    }
    for (const [i, providers] of results.entries()) {
      const ids = providers.map(p => p.peerId)
      expect(ids, `leaf ${i}`).to.include(seeder.node.peerId.toString())
      expect(providers.find(p => p.peerId === seeder.node.peerId.toString())?.origin).to.equal(true)
      const others = announcers.filter(a => a !== leaves[i]).map(a => a.node.peerId.toString())
      expect(others.some(id => ids.includes(id)), `leaf ${i} finds an announcer`).to.equal(true)
      if (!others.every(id => ids.includes(id))) missing++
      expect(ids).to.not.include(leaves[i].node.peerId.toString())
      // Nearest first: the first provider is in the asker's AS when one exists there.
      const myAsn = 64600 + Number(leaves[i].ip.split('.')[1])
      if (providers.some(p => p.asn === myAsn)) expect(providers[0].asn, `leaf ${i} ranking`).to.equal(myAsn)
    }
    console.log(`      31 nodes attached in ${ms} ms (${attachedToSeeder} leaves also on the seeder); ${leaves.length} lookups all found the seeder, ${leaves.length - missing} all other announcers (${repeats} asked again)`)
    expect(missing, 'leaves that missed an announcer').to.be.at.most(leaves.length / 2)
  })

  it('leaves re-attach after their supernodes are killed, and lookups still succeed', async () => {
    // Kill the two supernodes the first leaf is attached to (and with them, most leaves' attachments).
    const victimIds = new Set(leaves[5].overlay.status().attached.map(a => a.peerId))
    const victims = supers.filter(s => victimIds.has(s.node.peerId.toString())).slice(0, 2)
    expect(victims.length).to.equal(2)
    const affected = leaves.filter(l => l.overlay.status().attached.some(a => victims.some(v => v.node.peerId.toString() === a.peerId)))
    const t0 = Date.now()
    await Promise.all(victims.map(stop))
    const dead = new Set(victims.map(v => v.node.peerId.toString()))
    const BOUND_MS = 20_000 // ~1 s when quiet (printed below); the margin is for a loaded machine
    await waitFor('affected leaves re-attached to live supernodes', () => affected.every(l => {
      const att = l.overlay.status().attached
      return att.length >= 2 && att.every(a => !dead.has(a.peerId))
    }), BOUND_MS)
    const ms = Date.now() - t0
    const results = await Promise.all(affected.map(async l => await l.overlay.findProviders(item, { signal: AbortSignal.timeout(30_000) })))
    for (const providers of results) expect(providers.map(p => p.peerId)).to.include(seeder.node.peerId.toString())
    console.log(`      ${affected.length} leaves re-attached ${ms} ms after the kill of 2 supernodes began (bound ${BOUND_MS} ms); lookups OK ${Date.now() - t0} ms after the kill`)
  })

  it('resets a stream that sends a malformed or oversize DHT frame, and keeps answering', async () => {
    const probe = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.9.0.1/tcp/0'] })
    const penalized: string[] = []
    seeder.overlay.addEventListener('peer:penalized', e => { penalized.push(e.detail.peerId) })
    try {
      const target = multiaddr(addrOf(seeder))
      for (const bad of [Uint8Array.from([0x08, 0xff, 0xff, 0xff]), new Uint8Array(MAX_DHT_MESSAGE_BYTES + 10).fill(7), Uint8Array.from([0x12, 0x05, 0x01])]) {
        const stream = await probe.dialProtocol(target, DHT_PROTOCOL)
        const lp = lpStream(stream, { maxDataLength: MAX_DHT_MESSAGE_BYTES * 2 })
        await lp.write(bad)
        let error: Error | undefined
        try { await lp.read({ signal: AbortSignal.timeout(3000) }) } catch (err) { error = err as Error }
        expect(error, 'stream must fail, not answer').to.not.equal(undefined)
        expect(error?.name).to.not.equal('TimeoutError')
      }
      // Violations cost 50 each (scores recover slowly): the third bans the sender and hangs up on it.
      await waitFor('probe penalized', () => penalized.includes(probe.peerId.toString()), 3000)
      // The seeder still serves lookups.
      const providers = await leaves[10].overlay.findProviders(item, { signal: AbortSignal.timeout(30_000) })
      expect(providers.map(p => p.peerId)).to.include(seeder.node.peerId.toString())
    } finally {
      await probe.stop()
    }
  })
})
