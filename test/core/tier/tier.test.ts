import { expect } from 'chai'
import { SupernodePolicy, type PolicyInput } from '../../../src/core/tier/supernode-policy.js'
import { LeafAttachment, type LeafEffect } from '../../../src/core/tier/leaf-attachment.js'
import { SupernodeIndex, type SupernodeEffect } from '../../../src/core/tier/supernode-index.js'
import { requestIdCounter } from '../../../src/core/dht/dht-node.js'
import type { Contact } from '../../../src/core/dht/contact.js'
import { keyFromBytes } from '../../../src/core/ids.js'
import { makeContact, seededRandom } from '../dht/fake-network.js'

const MIN = 60_000

function base (over: Partial<PolicyInput>): PolicyInput {
  return { nowMs: 10 * 60 * MIN, role: 'leaf', upSinceMs: 0, roleSinceMs: 0, reachable: true, spareUploadBytesPerSec: 1 << 20, regionSupernodes: 0, regionLeaves: 100, ...over }
}

describe('core/tier/supernode-policy', () => {
  const always = new SupernodePolicy({ random: () => 0 })
  it('promotes an eligible leaf when its region has too few supernodes', () => {
    expect(always.decide(base({ regionSupernodes: 1, regionLeaves: 100 })).action).to.equal('promote')
    expect(always.decide(base({ regionSupernodes: 3, regionLeaves: 100 })).action).to.equal('stay')
  })
  it('does not promote a leaf that is young, unreachable or short of upload', () => {
    expect(always.decide(base({ upSinceMs: 10 * 60 * MIN - 29 * MIN })).action).to.equal('stay')
    expect(always.decide(base({ reachable: false })).action).to.equal('stay')
    expect(always.decide(base({ spareUploadBytesPerSec: 1000 })).action).to.equal('stay')
  })
  it('demotes only beyond twice the need and after its tenure', () => {
    const s = { role: 'supernode' as const }
    expect(always.decide(base({ ...s, regionSupernodes: 6, regionLeaves: 100 })).action).to.equal('stay')
    expect(always.decide(base({ ...s, regionSupernodes: 7, regionLeaves: 100 })).action).to.equal('demote')
    expect(always.decide(base({ ...s, regionSupernodes: 7, regionLeaves: 100, roleSinceMs: 10 * 60 * MIN - MIN })).action).to.equal('stay')
  })
  it('never demotes a seeder', () => {
    expect(always.decide(base({ role: 'seeder', regionSupernodes: 500, regionLeaves: 0 })).action).to.equal('stay')
  })
  it('promotes about fanout × deficit of a region\'s leaves, not all of them', () => {
    const p = new SupernodePolicy({ random: seededRandom(1) })
    let promoted = 0
    for (let i = 0; i < 1000; i++) if (p.decide(base({ regionSupernodes: 0, regionLeaves: 1000 })).action === 'promote') promoted++
    // need = 20, deficit 20, fanout 2 -> p = 0.04 -> about 40 of 1000
    expect(promoted).to.be.within(20, 60)
  })
})

/** Wires leaves and supernode indexes together with zero-latency delivery. */
class TierNet {
  nowMs = 0
  readonly leaves = new Map<string, LeafAttachment>()
  readonly supers = new Map<string, SupernodeIndex>()
  readonly dead = new Set<string>()
  readonly events: Array<{ atMs: number, peer: string, e: LeafEffect | SupernodeEffect }> = []
  readonly attachSent: Array<{ atMs: number, from: string }> = []
  private readonly queue: Array<{ from: Contact, to: Contact, e: LeafEffect | SupernodeEffect }> = []

  push (from: Contact, effects: Array<LeafEffect | SupernodeEffect>): void {
    for (const e of effects) {
      if (e.type === 'send') {
        if (e.message.type === 'attach') this.attachSent.push({ atMs: this.nowMs, from: from.peerId })
        this.queue.push({ from, to: e.to, e })
      } else if (e.type === 'dht-get-providers') {
        this.push(from, this.supers.get(from.peerId)!.providersFound(this.nowMs, e.token, []))
      } else this.events.push({ atMs: this.nowMs, peer: from.peerId, e })
    }
  }

  run (untilMs: number): void {
    for (let i = 0; i < 1_000_000; i++) {
      const m = this.queue.shift()
      if (m != null) {
        if (m.e.type !== 'send' || this.dead.has(m.to.peerId)) continue
        const target = this.leaves.get(m.to.peerId) ?? this.supers.get(m.to.peerId)
        if (target != null) this.push(m.to, target.handleMessage(this.nowMs, m.from, m.e.message))
        continue
      }
      let next: number | undefined
      let who: LeafAttachment | SupernodeIndex | undefined
      for (const n of [...this.leaves.values(), ...this.supers.values()]) {
        if (this.dead.has(n.self.peerId)) continue
        const d = n.nextDeadlineMs()
        if (d !== undefined && (next === undefined || d < next)) { next = d; who = n }
      }
      if (next === undefined || who == null || next > untilMs) { this.nowMs = untilMs; return }
      this.nowMs = Math.max(this.nowMs, next)
      this.push(who.self, who.handleTimeout(this.nowMs))
    }
    throw new Error('did not settle')
  }
}

describe('core/tier leaf attachment and supernode index', () => {
  const key = keyFromBytes(new TextEncoder().encode('movie'))

  function setup (nSupers: number, nLeaves: number, maxLeaves = 200, seed = 3): { net: TierNet, supers: Contact[], leaves: Contact[] } {
    const net = new TierNet()
    const rnd = seededRandom(seed)
    const supers = Array.from({ length: nSupers }, (_, i) => makeContact(`sn${i}`))
    for (const s of supers) {
      net.supers.set(s.peerId, new SupernodeIndex({ self: s, maxLeaves, alternatives: () => supers }))
    }
    const leaves = Array.from({ length: nLeaves }, (_, i) => makeContact(`leaf${i}`))
    for (const l of leaves) {
      const la = new LeafAttachment({ self: l, random: rnd, nextRequestId: requestIdCounter() })
      net.leaves.set(l.peerId, la)
      net.push(l, la.addCandidates(0, supers))
    }
    net.run(1000)
    return { net, supers, leaves }
  }

  it('attaches to three supernodes, registers, and finds another leaf\'s content', () => {
    const { net, leaves } = setup(4, 2)
    const a = net.leaves.get('leaf0')!
    expect(a.attached()).to.have.length(3)
    net.push(leaves[0], a.hold(net.nowMs, key))
    net.run(net.nowMs + 100)
    // All three index it; only the leaf's announcer publishes a record.
    for (const sn of a.attached()) expect(net.supers.get(sn.peerId)!.indexedKeys).to.equal(1)
    const provides = net.events.filter(e => e.e.type === 'dht-provide')
    expect(provides.map(e => e.peer)).to.deep.equal([a.announcingSupernode()!.peerId])
    const b = net.leaves.get('leaf1')!
    net.push(leaves[1], b.query(net.nowMs, key).effects)
    net.run(net.nowMs + 100)
    const done = net.events.find(e => e.e.type === 'query-done')!.e
    expect(done.type === 'query-done' && done.providers.map(p => p.peerId)).to.deep.equal(['leaf0'])
  })

  it('sends keep-alives at once when its addresses change, and its supernodes then answer queries with the new addresses', () => {
    const { net, leaves } = setup(3, 2)
    const a = net.leaves.get('leaf0')!
    net.push(leaves[0], a.hold(net.nowMs, key))
    net.run(net.nowMs + 100)
    // A relay reservation gave leaf0 a relayed address; its frames carry it from now on.
    const relayed = { ...leaves[0], addrs: ['/ip4/12.0.2.10/tcp/4001/p2p/12D3KooWRelay/p2p-circuit'] }
    a.keepAliveNow(net.nowMs)
    expect(a.nextDeadlineMs()).to.equal(net.nowMs)
    const keepAlives = a.handleTimeout(net.nowMs)
    expect(keepAlives.filter(e => e.type === 'send' && e.message.type === 'keep-alive')).to.have.length(3)
    net.push(relayed, keepAlives)
    net.run(net.nowMs + 100)
    const b = net.leaves.get('leaf1')!
    net.push(leaves[1], b.query(net.nowMs, key).effects)
    net.run(net.nowMs + 100)
    const done = net.events.find(e => e.e.type === 'query-done')!.e
    expect(done.type === 'query-done' && done.providers.map(p => p.addrs)).to.deep.equal([relayed.addrs])
  })

  it('re-attaches and re-registers within keep-alive + timeout after its supernode dies silently', () => {
    const { net, leaves } = setup(5, 1)
    const leaf = net.leaves.get('leaf0')!
    net.push(leaves[0], leaf.hold(net.nowMs, key))
    net.run(net.nowMs + 10)
    const victim = leaf.attached()[0]
    const diedAt = net.nowMs
    net.dead.add(victim.peerId)
    net.run(diedAt + 60_000)
    const reattached = net.events.find(e => e.e.type === 'attached' && e.atMs > diedAt)
    expect(reattached).to.not.equal(undefined)
    const bound = 15_000 + 5_000 // keepAliveIntervalMs + requestTimeoutMs (zero-latency links)
    expect(reattached!.atMs - diedAt).to.be.at.most(bound)
    expect(leaf.attached().map(c => c.peerId)).to.not.include(victim.peerId)
    expect(leaf.attached()).to.have.length(3)
    const newSn = reattached!.e.type === 'attached' ? reattached!.e.supernode.peerId : ''
    expect(net.supers.get(newSn)!.indexedKeys).to.equal(1)
  })

  it('hands the announcement to another attached supernode when its announcer dies', () => {
    const { net, leaves } = setup(5, 1)
    const leaf = net.leaves.get('leaf0')!
    net.push(leaves[0], leaf.hold(net.nowMs, key))
    net.run(net.nowMs + 10)
    const first = leaf.announcingSupernode()!
    expect(net.events.filter(e => e.e.type === 'dht-provide').map(e => e.peer)).to.deep.equal([first.peerId])
    const diedAt = net.nowMs
    net.dead.add(first.peerId)
    net.run(diedAt + 60_000)
    const next = leaf.announcingSupernode()!
    expect(next.peerId).to.not.equal(first.peerId)
    expect(leaf.attached().map(c => c.peerId)).to.include(next.peerId)
    // Exactly one new announcement, by the new announcer; the replacement attachment only indexes.
    const later = net.events.filter(e => e.e.type === 'dht-provide' && e.atMs > diedAt)
    expect(later.map(e => e.peer)).to.deep.equal([next.peerId])
    expect(leaf.attached()).to.have.length(3)
    for (const sn of leaf.attached()) expect(net.supers.get(sn.peerId)!.indexedKeys).to.equal(1)
  })

  it('announces a key while one holder asks for it, and indexes index-only holders without announcing', () => {
    const idx = new SupernodeIndex({ self: makeContact('sn') })
    const l0 = makeContact('l0')
    const l1 = makeContact('l1')
    for (const l of [l0, l1]) idx.handleMessage(0, l, { type: 'attach', requestId: 1 })
    const types = (effects: SupernodeEffect[]): string[] => effects.map(e => e.type === 'send' ? e.message.type : e.type)
    expect(types(idx.handleMessage(1, l0, { type: 'register', requestId: 2, keys: [key], indexOnly: true }))).to.deep.equal(['ack'])
    expect(idx.indexedKeys).to.equal(1)
    expect(idx.localProviders(makeContact('asker'), key).map(c => c.peerId)).to.deep.equal(['l0'])
    // Upgrade: the same leaf now asks us to announce.
    expect(types(idx.handleMessage(2, l0, { type: 'register', requestId: 3, keys: [key] }))).to.deep.equal(['dht-provide', 'ack'])
    expect(types(idx.handleMessage(3, l1, { type: 'register', requestId: 4, keys: [key] }))).to.deep.equal(['ack'])
    expect(types(idx.handleMessage(4, l0, { type: 'unregister', requestId: 5, keys: [key] }))).to.deep.equal(['ack'])
    // The last announcing holder goes: withdrawn, although an index-only holder stays indexed.
    const l2 = makeContact('l2')
    idx.handleMessage(5, l2, { type: 'attach', requestId: 6 })
    idx.handleMessage(5, l2, { type: 'register', requestId: 7, keys: [key], indexOnly: true })
    expect(types(idx.handleMessage(6, l1, { type: 'unregister', requestId: 8, keys: [key] }))).to.deep.equal(['dht-unprovide', 'ack'])
    expect(idx.indexedKeys).to.equal(1)
    // This node's own copy is always announced.
    expect(types(idx.holdSelf(key))).to.deep.equal(['dht-provide'])
    expect(types(idx.dropSelf(key))).to.deep.equal(['dht-unprovide'])
    expect(types(idx.handleMessage(7, l2, { type: 'unregister', requestId: 9, keys: [key] }))).to.deep.equal(['ack'])
    expect(idx.indexedKeys).to.equal(0)
  })

  it('sheds new leaves while shedAtPendingQueries of its leaves\' queries are resolving, and takes them once they are answered', () => {
    const idx = new SupernodeIndex({ self: makeContact('sn-q'), maxLeaves: 10, shedAtPendingQueries: 2, alternatives: () => [] })
    const l0 = makeContact('l0')
    const first = (e: SupernodeEffect[]): string | false => e[0]?.type === 'send' && e[0].message.type
    expect(first(idx.handleMessage(0, l0, { type: 'attach', requestId: 1 }))).to.equal('attach-ok')
    const tokens = [2, 3].flatMap(id => idx.handleMessage(1, l0, { type: 'query', requestId: id, key: keyFromBytes(new TextEncoder().encode(`k${id}`)) }))
      .flatMap(e => e.type === 'dht-get-providers' ? [e.token] : [])
    expect(tokens).to.have.length(2)
    expect(first(idx.handleMessage(2, makeContact('l1'), { type: 'attach', requestId: 4 }))).to.equal('attach-busy')
    for (const t of tokens) idx.providersFound(3, t, [])
    expect(first(idx.handleMessage(4, makeContact('l2'), { type: 'attach', requestId: 5 }))).to.equal('attach-ok')
  })

  it('answers busy with alternatives when full and never drops its existing leaves', () => {
    const net = new TierNet()
    const sn = makeContact('sn-full')
    const alt = makeContact('sn-alt')
    const idx = new SupernodeIndex({ self: sn, maxLeaves: 2, alternatives: () => [alt, sn] })
    const replies = [0, 1, 2].map(i => idx.handleMessage(0, makeContact(`l${i}`), { type: 'attach', requestId: i })[0])
    expect(replies.map(r => r.type === 'send' && r.message.type)).to.deep.equal(['attach-ok', 'attach-ok', 'attach-busy'])
    const busy = replies[2]
    expect(busy.type === 'send' && busy.message.type === 'attach-busy' && busy.message.alternatives.map(c => c.peerId)).to.deep.equal(['sn-alt'])
    idx.setOverloaded(true)
    expect(idx.leafCount).to.equal(2)
    const ka = idx.handleMessage(1, makeContact('l0'), { type: 'keep-alive', requestId: 9 })[0]
    expect(ka.type === 'send' && ka.message.type).to.equal('ack')
    void net
  })

  it('names as busy alternatives the known members ranked for the leaf, origin seeders last, never itself or the leaf', () => {
    const sn = makeContact('sn-full')
    const leaf = makeContact('l-new')
    const origin = { ...makeContact('seeder'), origin: true }
    const known = [origin, sn, leaf, ...Array.from({ length: 8 }, (_, i) => makeContact(`m${i}`))]
    // The rank puts the seeder first and reverses the rest: the index must still list it last.
    const rank = (_a: Contact, c: Contact[]): Contact[] => [...c].sort((x, y) => (x.origin === true ? -1 : y.origin === true ? 1 : y.peerId.localeCompare(x.peerId)))
    const idx = new SupernodeIndex({ self: sn, maxLeaves: 0, maxAlternatives: 5, alternatives: () => known, rank })
    const r = idx.handleMessage(0, leaf, { type: 'attach', requestId: 1 })[0]
    expect(r.type === 'send' && r.message.type === 'attach-busy' && r.message.alternatives.map(c => c.peerId)).to.deep.equal(['m7', 'm6', 'm5', 'm4', 'm3'])
    const few = new SupernodeIndex({ self: sn, maxLeaves: 0, maxAlternatives: 5, alternatives: () => [origin, makeContact('m0')], rank })
    const r2 = few.handleMessage(0, leaf, { type: 'attach', requestId: 2 })[0]
    expect(r2.type === 'send' && r2.message.type === 'attach-busy' && r2.message.alternatives.map(c => c.peerId)).to.deep.equal(['m0', 'seeder'])
  })

  it('remembers the leaf count each supernode reported on attach-ok, and forgets it with a supernode whose relay is broken', () => {
    const cands = [makeContact('sn-a'), makeContact('sn-b')]
    const leaf = new LeafAttachment({ self: makeContact('leaf'), random: () => 0, targetAttachments: 2 })
    for (const e of leaf.addCandidates(0, cands)) {
      if (e.type !== 'send' || e.message.type !== 'attach') continue
      leaf.handleMessage(10, e.to, { type: 'attach-ok', requestId: e.message.requestId, keepAliveIntervalMs: 15_000, leaves: e.to.peerId === 'sn-a' ? 120 : 40, maxLeaves: 200 })
    }
    expect(leaf.attachedLeafCounts().map(x => [x.contact.peerId, x.leaves]).sort()).to.deep.equal([['sn-a', 120], ['sn-b', 40]])
    leaf.relayBroken(20, 'sn-a')
    expect(leaf.attachedLeafCounts().map(x => x.contact.peerId)).to.deep.equal(['sn-b'])
    // Avoided like a full supernode: not asked again at once.
    expect(leaf.handleTimeout(1000).filter(e => e.type === 'send' && e.to.peerId === 'sn-a')).to.deep.equal([])
  })

  it('does not ask a supernode that answered busy again for minutes, and keeps the alternatives it named', () => {
    const cands = Array.from({ length: 4 }, (_, i) => makeContact(`sn${i}`))
    const leaf = new LeafAttachment({ self: makeContact('leaf'), random: () => 0, targetAttachments: 1, maxCandidates: 4, busyBackoffMs: 300_000 })
    const asked: string[] = []
    let pending = leaf.addCandidates(0, cands)
    let t = 0
    // Every supernode answers busy; the first names an alternative although the list is full (4).
    while (pending.length > 0 && t < 140_000) {
      const next: LeafEffect[] = []
      for (const e of pending) {
        if (e.type !== 'send' || e.message.type !== 'attach') continue
        asked.push(e.to.peerId)
        next.push(...leaf.handleMessage(t, e.to, { type: 'attach-busy', requestId: e.message.requestId, alternatives: e.to.peerId === 'sn0' ? [makeContact('sn-alt')] : [] }))
      }
      t += 1000
      pending = [...next, ...leaf.handleTimeout(t)]
    }
    expect(asked).to.deep.equal(['sn0', 'sn1', 'sn2', 'sn3', 'sn-alt'])
    // Backoff after busy is at least busyBackoffMs / 2 (random 0): nothing before 150 s, a retry after.
    for (; t < 149_000; t += 1000) expect(leaf.handleTimeout(t).filter(e => e.type === 'send')).to.deep.equal([])
    expect(leaf.handleTimeout(151_000).some(e => e.type === 'send' && e.message.type === 'attach')).to.equal(true)
  })

  it('doubles the busy backoff for a supernode that stays full, up to busyBackoffMaxMs', () => {
    const sn = makeContact('sn-full')
    const leaf = new LeafAttachment({ self: makeContact('leaf'), random: () => 0, targetAttachments: 1, busyBackoffMs: 300_000, busyBackoffMaxMs: 1_200_000 })
    const asks: number[] = []
    const answer = (t: number, effects: LeafEffect[]): void => {
      for (const e of effects) {
        if (e.type !== 'send' || e.message.type !== 'attach') continue
        asks.push(t)
        leaf.handleMessage(t, sn, { type: 'attach-busy', requestId: e.message.requestId, alternatives: [] })
      }
    }
    answer(0, leaf.addCandidates(0, [sn]))
    for (let t = 1000; t <= 3_600_000; t += 1000) answer(t, leaf.handleTimeout(t))
    // random 0 -> half of each step: 150 s, then 300 s, 600 s, then capped at 600 s (half of 1 200 s).
    expect(asks.slice(0, 5)).to.deep.equal([0, 150_000, 450_000, 1_050_000, 1_650_000])
  })

  it('forgets a candidate that failed four times in a row, but never drops below targetAttachments candidates', () => {
    const dead = makeContact('sn-dead')
    const live = Array.from({ length: 3 }, (_, i) => makeContact(`sn-live${i}`))
    const leaf = new LeafAttachment({ self: makeContact('leaf'), random: () => 0.5, targetAttachments: 1, backoffBaseMs: 1000 })
    const toDead: number[] = []
    let pending = leaf.addCandidates(0, [dead, ...live])
    for (let t = 0; t <= 600_000; t += 500) {
      for (const e of pending) {
        if (e.type !== 'send' || e.message.type !== 'attach') continue
        if (e.to.peerId === dead.peerId) { toDead.push(t); continue } // never answers
        pending = leaf.handleMessage(t, e.to, { type: 'attach-busy', requestId: e.message.requestId, alternatives: [] })
      }
      pending = leaf.handleTimeout(t + 500)
    }
    expect(toDead).to.have.length(4)
    // A leaf whose only candidate fails keeps it: after a mass restart the same supernodes come back.
    const lonely = new LeafAttachment({ self: makeContact('leaf2'), random: () => 0.5, targetAttachments: 1 })
    let sent = 0
    let p2 = lonely.addCandidates(0, [dead])
    for (let t = 0; t <= 600_000; t += 500) {
      for (const e of p2) if (e.type === 'send' && e.message.type === 'attach' && e.to.peerId === dead.peerId) sent++
      p2 = lonely.handleTimeout(t + 500)
    }
    expect(sent).to.be.greaterThan(4)
  })

  it('survives losing a quarter of its supernodes: every leaf ends attached, no supernode sheds a leaf', () => {
    // 6 survivors x 110 slots = 660 >= 200 leaves x 3 attachments.
    const { net, supers } = setup(8, 200, 110, 5)
    const lost = supers.slice(0, 2)
    for (const s of lost) net.dead.add(s.peerId)
    const t0 = net.nowMs
    net.run(t0 + 120_000)
    let fullyAttached = 0
    for (const la of net.leaves.values()) if (la.attached().length >= 2) fullyAttached++
    expect(fullyAttached).to.equal(200)
    for (const s of supers.slice(2)) expect(net.supers.get(s.peerId)!.leafCount).to.be.at.most(110)
    expect(net.events.some(e => e.e.type === 'penalize')).to.equal(false)
  })

  it('leaves left short of supernodes after a loss ask to promote themselves', () => {
    // 6 survivors x 80 slots = 480 < 600: the tier is too thin and must grow.
    const { net, supers } = setup(8, 200, 80, 5)
    for (const s of supers.slice(0, 2)) net.dead.add(s.peerId)
    const t0 = net.nowMs
    net.run(t0 + 120_000)
    const short = [...net.leaves.values()].filter(l => l.attached().length < 2).map(l => l.self.peerId)
    expect(short.length).to.be.greaterThan(0)
    const asked = new Set(net.events.filter(e => e.e.type === 'promote-self' && e.atMs > t0).map(e => e.peer))
    for (const p of short) expect(asked.has(p)).to.equal(true)
    // Survivors stay full but keep every leaf they had: nobody was disconnected by load.
    for (const s of supers.slice(2)) expect(net.supers.get(s.peerId)!.leafCount).to.equal(80)
  })

  it('spreads reconnects over the jitter window after a mass restart', () => {
    const { net, supers } = setup(3, 300, 1000, 11)
    for (const s of supers) net.dead.add(s.peerId)
    const t0 = net.nowMs
    net.run(t0 + 25_000) // every leaf detects the loss (keep-alive + timeout)
    for (const s of supers) net.dead.delete(s.peerId)
    const start = net.attachSent.length
    net.run(net.nowMs + 120_000)
    const retries = net.attachSent.slice(start).map(a => a.atMs)
    expect(retries.length).to.be.greaterThan(300)
    const sec = new Map<number, number>()
    for (const t of retries) sec.set(Math.floor(t / 1000), (sec.get(Math.floor(t / 1000)) ?? 0) + 1)
    const peak = Math.max(...sec.values())
    // Without jitter all 300 leaves would retry in the same instant.
    expect(peak).to.be.lessThan(0.4 * retries.length)
    let attached = 0
    for (const la of net.leaves.values()) if (la.attached().length === 3) attached++
    expect(attached).to.equal(300)
  })

  it('asks to promote itself when the tier is too thin', () => {
    const leaf = new LeafAttachment({ self: makeContact('lonely'), random: () => 0.5 })
    const effects = leaf.addCandidates(0, [makeContact('only-sn')])
    expect(effects.some(e => e.type === 'promote-self')).to.equal(true)
  })
})
