import { expect } from 'chai'
import { LeafAttachment, type LeafEffect } from '../../../src/core/tier/leaf-attachment.js'
import { SupernodeIndex, type SupernodeEffect } from '../../../src/core/tier/supernode-index.js'
import { DhtNode, type DhtEffect } from '../../../src/core/dht/dht-node.js'
import type { Contact } from '../../../src/core/dht/contact.js'
import type { DhtMessage } from '../../../src/core/messages/dht-messages.js'
import { keyFromBytes } from '../../../src/core/ids.js'
import { makeContact } from '../../helpers/core-contacts.js'

const key = keyFromBytes(new TextEncoder().encode('robust-item'))

type AnyEffect = LeafEffect | SupernodeEffect | DhtEffect
function sends (effects: AnyEffect[]): Array<{ to: Contact, message: DhtMessage }> {
  return effects.flatMap(e => e.type === 'send' ? [{ to: e.to, message: e.message }] : [])
}

/** A leaf attached to `supers` (attach-ok from each), in that rank order. */
function attachedLeaf (supers: Contact[], init: { requestTimeoutMs?: number, queryTimeoutMs?: number } = {}): LeafAttachment {
  const leaf = new LeafAttachment({ self: makeContact('leaf'), random: () => 0.5, ...init })
  for (const s of sends(leaf.addCandidates(0, supers))) {
    leaf.handleMessage(0, s.to, { type: 'attach-ok', requestId: s.message.requestId, keepAliveIntervalMs: 15_000, leaves: 1, maxLeaves: 200 })
  }
  expect(leaf.attached().map(c => c.peerId)).to.deep.equal(supers.map(s => s.peerId))
  return leaf
}

describe('core/tier: a lookup does not end empty because one supernode knew nothing', () => {
  const supers = [makeContact('sn0'), makeContact('sn1'), makeContact('sn2')]
  const holder = makeContact('holder', '10.9.0.1')

  it('asks the next attached supernode when one answers with no providers', () => {
    const leaf = attachedLeaf(supers)
    const q = leaf.query(10, key)
    const first = sends(q.effects)
    expect(first.map(s => s.to.peerId)).to.deep.equal(['sn0'])
    // sn0's lookup ran out of budget (or it had not seen the announcement yet): an empty answer.
    const afterEmpty = leaf.handleMessage(20, supers[0], { type: 'query-reply', requestId: first[0].message.requestId, providers: [] })
    expect(afterEmpty.some(e => e.type === 'query-done'), 'an empty answer is not final').to.equal(false)
    const second = sends(afterEmpty)
    expect(second.map(s => s.to.peerId)).to.deep.equal(['sn1'])
    const done = leaf.handleMessage(30, supers[1], { type: 'query-reply', requestId: second[0].message.requestId, providers: [holder] })
    const d = done.find(e => e.type === 'query-done')
    expect(d?.type === 'query-done' && d.queryId === q.queryId && d.providers.map(p => p.peerId)).to.deep.equal(['holder'])
    // The empty answer did not cost the leaf its attachment.
    expect(leaf.attached()).to.have.length(3)
  })

  it('ends with no providers only after every attached supernode answered empty', () => {
    const leaf = attachedLeaf(supers)
    let effects: LeafEffect[] = leaf.query(10, key).effects
    const asked: string[] = []
    for (let i = 0; i < 3; i++) {
      const [s] = sends(effects)
      asked.push(s.to.peerId)
      effects = leaf.handleMessage(20 + i, s.to, { type: 'query-reply', requestId: s.message.requestId, providers: [] })
    }
    expect(asked).to.deep.equal(['sn0', 'sn1', 'sn2'])
    const d = effects.find(e => e.type === 'query-done')
    expect(d?.type === 'query-done' && d.providers).to.deep.equal([])
  })

  it('waits queryTimeoutMs (the supernode\'s budget plus a request time) for a query, not requestTimeoutMs', () => {
    const leaf = attachedLeaf(supers, { requestTimeoutMs: 1500, queryTimeoutMs: 3000 })
    const [s] = sends(leaf.query(100, key).effects)
    // At the plain request timeout the query is still waiting: nothing fails, nobody is detached.
    const early = leaf.handleTimeout(1700)
    expect(early.filter(e => e.type === 'detached' || e.type === 'query-done')).to.deep.equal([])
    const d = leaf.handleMessage(2900, s.to, { type: 'query-reply', requestId: s.message.requestId, providers: [holder] })
    expect(d.some(e => e.type === 'query-done')).to.equal(true)
  })
})

describe('core/tier: a supernode forwards a query as soon as its lookup names announcers', () => {
  const leafC = makeContact('leafQ', '10.1.0.1')
  const seeder: Contact = { ...makeContact('seeder', '10.2.0.1'), origin: true }
  const snB = makeContact('snB', '10.3.0.1')
  const snC = makeContact('snC', '10.4.0.1')
  const holderB = makeContact('holderB', '10.3.1.1')

  function indexWithQuery (maxForwardQueries = 8): { index: SupernodeIndex, token: number, requestId: number } {
    const index = new SupernodeIndex({ self: makeContact('snA'), maxForwardQueries, queryBudgetMs: 1500, requestTimeoutMs: 1500 })
    const [ok] = sends(index.handleMessage(0, leafC, { type: 'attach', requestId: 1 }))
    expect(ok.message.type).to.equal('attach-ok')
    const effects = index.handleMessage(10, leafC, { type: 'query', requestId: 2, key })
    const g = effects.find(e => e.type === 'dht-get-providers')
    if (g?.type !== 'dht-get-providers') throw new Error('expected a dht-get-providers effect')
    return { index, token: g.token, requestId: 2 }
  }

  it('asks announcers named mid-lookup at once and answers when they replied, before the lookup ends', () => {
    const { index, token } = indexWithQuery()
    const early = sends(index.providersSeen(20, token, [seeder, snB]))
    expect(early.map(s => s.to.peerId).sort()).to.deep.equal(['seeder', 'snB'])
    expect(early.every(s => s.message.type === 'query' && s.message.localOnly === true)).to.equal(true)
    const req = (peer: string): number => early.find(s => s.to.peerId === peer)!.message.requestId
    // One announcer still to answer: no answer to the leaf yet.
    expect(sends(index.handleMessage(30, seeder, { type: 'query-reply', requestId: req('seeder'), providers: [seeder] }))).to.deep.equal([])
    const answer = sends(index.handleMessage(40, snB, { type: 'query-reply', requestId: req('snB'), providers: [holderB] }))
    expect(answer).to.have.length(1)
    expect(answer[0].to.peerId).to.equal('leafQ')
    const m = answer[0].message
    expect(m.type === 'query-reply' && m.providers.map(p => p.peerId).sort()).to.deep.equal(['holderB', 'seeder'])
    // The lookup's end finds the query answered: nothing more is sent.
    expect(sends(index.providersFound(50, token, [seeder, snB, snC]))).to.deep.equal([])
  })

  it('waits for the lookup\'s end when the announcers named so far know nobody, and asks the late ones', () => {
    const { index, token } = indexWithQuery()
    const [b] = sends(index.providersSeen(20, token, [snB]))
    expect(sends(index.handleMessage(30, snB, { type: 'query-reply', requestId: b.message.requestId, providers: [] }))).to.deep.equal([])
    const late = sends(index.providersFound(50, token, [snB, snC]))
    expect(late.map(s => s.to.peerId)).to.deep.equal(['snC'])
    const answer = sends(index.handleMessage(60, snC, { type: 'query-reply', requestId: late[0].message.requestId, providers: [holderB] }))
    const m = answer[0]?.message
    expect(m?.type === 'query-reply' && m.providers.map(p => p.peerId)).to.deep.equal(['holderB'])
  })

  it('keeps one forward slot for an origin seeder until one was asked', () => {
    const { index, token } = indexWithQuery(2)
    const first = sends(index.providersSeen(20, token, [snB, snC]))
    expect(first.map(s => s.to.peerId)).to.deep.equal(['snB'])
    const second = sends(index.providersSeen(30, token, [seeder]))
    expect(second.map(s => s.to.peerId)).to.deep.equal(['seeder'])
  })

  it('gives the kept slot to anyone when the finished lookup found no origin', () => {
    const { index, token } = indexWithQuery(2)
    expect(sends(index.providersSeen(20, token, [snB, snC])).map(s => s.to.peerId)).to.deep.equal(['snB'])
    expect(sends(index.providersFound(30, token, [snB, snC])).map(s => s.to.peerId)).to.deep.equal(['snC'])
  })
})

describe('core/dht/dht-node: get-providers reports providers before the lookup ends', () => {
  it('emits lookup-providers with only the new providers while other requests are in flight', () => {
    const self = makeContact('self', '10.0.0.1')
    const peers = [makeContact('p1', '10.1.0.1'), makeContact('p2', '10.2.0.1'), makeContact('p3', '10.3.0.1')]
    const node = new DhtNode({ self })
    for (const p of peers) node.peerAuthenticated(0, p)
    const { lookupId, effects } = node.getProviders(0, key)
    const reqs = sends(effects)
    expect(reqs).to.have.length(3)
    const prov = makeContact('prov', '10.9.0.1')
    const r1 = node.handleMessage(10, reqs[0].to, { type: 'get-providers-reply', requestId: reqs[0].message.requestId, providers: [prov], closer: [] })
    const progress = r1.filter(e => e.type === 'lookup-providers')
    expect(progress).to.have.length(1)
    expect(progress[0].type === 'lookup-providers' && progress[0].lookupId === lookupId && progress[0].providers.map(p => p.peerId)).to.deep.equal(['prov'])
    expect(r1.some(e => e.type === 'lookup-done')).to.equal(false)
    // The same provider again is not news.
    const r2 = node.handleMessage(20, reqs[1].to, { type: 'get-providers-reply', requestId: reqs[1].message.requestId, providers: [prov], closer: [] })
    expect(r2.filter(e => e.type === 'lookup-providers')).to.deep.equal([])
    const r3 = node.handleMessage(30, reqs[2].to, { type: 'get-providers-reply', requestId: reqs[2].message.requestId, providers: [], closer: [] })
    const done = r3.find(e => e.type === 'lookup-done')
    expect(done?.type === 'lookup-done' && done.result.providers.map(p => p.peerId)).to.deep.equal(['prov'])
  })
})
