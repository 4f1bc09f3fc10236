import { expect } from 'chai'
import { SupernodePolicy, type PolicyInput } from '../../../src/core/tier/supernode-policy.js'
import { LeafAttachment, type LeafEffect } from '../../../src/core/tier/leaf-attachment.js'
import { SupernodeIndex, type SupernodeEffect } from '../../../src/core/tier/supernode-index.js'
import { requestIdCounter } from '../../../src/core/dht/dht-node.js'
import type { Contact } from '../../../src/core/dht/contact.js'
import { keyFromBytes } from '../../../src/core/ids.js'
import type { DhtMessage } from '../../../src/core/messages/dht-messages.js'
import { makeContact, seededRandom } from '../../helpers/core-contacts.js'

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

/** The messages a machine sends, as (to, message) pairs. */
function sends (effects: Array<LeafEffect | SupernodeEffect>): Array<{ to: Contact, message: DhtMessage }> {
  return effects.flatMap(e => e.type === 'send' ? [{ to: e.to, message: e.message }] : [])
}

/** Answers every attach in `effects` with attach-ok and every keep-alive with ack, from its supernode at `nowMs`; returns what the leaf does next. */
function attachOk (leaf: LeafAttachment, nowMs: number, effects: LeafEffect[]): LeafEffect[] {
  const next: LeafEffect[] = []
  for (const s of sends(effects)) {
    if (s.message.type === 'attach') next.push(...leaf.handleMessage(nowMs, s.to, { type: 'attach-ok', requestId: s.message.requestId, keepAliveIntervalMs: 15_000, leaves: 1, maxLeaves: 200 }))
    else if (s.message.type === 'keep-alive') next.push(...leaf.handleMessage(nowMs, s.to, { type: 'ack', requestId: s.message.requestId }))
  }
  return next
}

// Attachment, re-attachment, loss of supernodes and tier growth across many
// nodes run through the simulator shell: test/sim/overlay-behaviour.test.ts.
// These tests are of one machine, fed its inputs by hand.
describe('core/tier leaf attachment and supernode index', () => {
  const key = keyFromBytes(new TextEncoder().encode('movie'))

  it('sends keep-alives at once when its addresses change, and its supernodes then answer queries with the new addresses', () => {
    const supers = [makeContact('sn0'), makeContact('sn1'), makeContact('sn2')]
    const leafContact = makeContact('leaf0')
    const leaf = new LeafAttachment({ self: leafContact, random: () => 0.5 })
    attachOk(leaf, 0, leaf.addCandidates(0, supers))
    expect(leaf.attached()).to.have.length(3)
    leaf.keepAliveNow(1_000)
    expect(leaf.nextDeadlineMs()).to.equal(1_000)
    expect(sends(leaf.handleTimeout(1_000)).filter(s => s.message.type === 'keep-alive').map(s => s.to.peerId).sort()).to.deep.equal(['sn0', 'sn1', 'sn2'])
    // The supernode's side: the keep-alive's frame carries the relayed address, which its answers name from then on.
    const idx = new SupernodeIndex({ self: supers[0] })
    idx.handleMessage(0, leafContact, { type: 'attach', requestId: 1 })
    idx.handleMessage(0, leafContact, { type: 'register', requestId: 2, keys: [key] })
    const relayed = { ...leafContact, addrs: ['/ip4/12.0.2.10/tcp/4001/p2p/12D3KooWRelay/p2p-circuit'] }
    expect(sends(idx.handleMessage(1_000, relayed, { type: 'keep-alive', requestId: 3 })).map(s => s.message.type)).to.deep.equal(['ack'])
    expect(idx.localProviders(makeContact('leaf1'), key).map(c => c.addrs)).to.deep.equal([relayed.addrs])
  })

  it('hands the announcement to another attached supernode when its announcer is lost, and only indexes at the replacement', () => {
    const supers = Array.from({ length: 5 }, (_, i) => makeContact(`sn${i}`))
    const leaf = new LeafAttachment({ self: makeContact('leaf0'), random: () => 0.5 })
    attachOk(leaf, 0, leaf.addCandidates(0, supers))
    const registers = (effects: LeafEffect[]): Array<[string, boolean]> =>
      sends(effects).flatMap(s => s.message.type === 'register' ? [[s.to.peerId, s.message.indexOnly === true] as [string, boolean]] : [])
    const first = registers(leaf.hold(10, key))
    const announcer = leaf.announcingSupernode()!
    // One announcer; the other two attachments only index.
    expect(first.filter(([, indexOnly]) => !indexOnly).map(([to]) => to)).to.deep.equal([announcer.peerId])
    expect(first.filter(([, indexOnly]) => indexOnly)).to.have.length(2)
    const lost = leaf.peerDisconnected(20, announcer.peerId)
    const next = leaf.announcingSupernode()!
    expect(next.peerId).to.not.equal(announcer.peerId)
    expect(leaf.attached().map(c => c.peerId)).to.include(next.peerId)
    // A replacement attachment is asked for, and registers index-only once it is in.
    let after = [...lost, ...leaf.handleTimeout(20)]
    for (let t = 20; t <= 30_000 && leaf.attached().length < 3; t += 100) after = [...after, ...attachOk(leaf, t, after), ...leaf.handleTimeout(t)]
    expect(leaf.attached()).to.have.length(3)
    const later = registers(after)
    expect(later.filter(([, indexOnly]) => !indexOnly).map(([to]) => to)).to.deep.equal([next.peerId])
    const replacement = leaf.attached().find(c => c.peerId !== next.peerId && first.every(([to]) => to !== c.peerId))!
    expect(later).to.deep.include([replacement.peerId, true])
  })

  it('spreads the reconnects of many leaves over the jitter window after all their supernodes vanished', () => {
    const supers = [makeContact('sn0'), makeContact('sn1'), makeContact('sn2')]
    const rnd = seededRandom(11)
    const leaves = Array.from({ length: 300 }, (_, i) => new LeafAttachment({ self: makeContact(`leaf${i}`), random: rnd, nextRequestId: requestIdCounter() }))
    for (const leaf of leaves) attachOk(leaf, 0, leaf.addCandidates(0, supers))
    // Every supernode restarts at 100 s: their connections close, and they answer again from 101 s.
    const retries: number[] = []
    for (const leaf of leaves) {
      let pending = supers.flatMap(s => leaf.peerDisconnected(100_000, s.peerId))
      for (let t = 100_000; t <= 220_000; t += 100) {
        pending = [...pending, ...leaf.handleTimeout(t)]
        for (const s of sends(pending)) if (s.message.type === 'attach') retries.push(t)
        // Before 101 s an attach is lost (its request times out inside the leaf).
        pending = t >= 101_000 ? attachOk(leaf, t, pending) : []
      }
      expect(leaf.attached()).to.have.length(3)
    }
    expect(retries.length).to.be.at.least(900)
    const perSecond = new Map<number, number>()
    for (const t of retries) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1)
    // Without jitter every leaf would ask in the same instant.
    expect(Math.max(...perSecond.values())).to.be.lessThan(0.4 * retries.length)
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

  it('asks to promote itself when the tier is too thin', () => {
    const leaf = new LeafAttachment({ self: makeContact('lonely'), random: () => 0.5 })
    const effects = leaf.addCandidates(0, [makeContact('only-sn')])
    expect(effects.some(e => e.type === 'promote-self')).to.equal(true)
  })
})
