import { expect } from 'chai'
import { ProviderStore } from '../../../src/core/dht/provider-store.js'
import { DhtNode, type DhtEffect } from '../../../src/core/dht/dht-node.js'
import type { Contact } from '../../../src/core/dht/contact.js'
import { checkDhtMessage, DhtMessageLimitError, MAX_CONTACTS_PER_MESSAGE } from '../../../src/core/messages/dht-messages.js'
import { RateLimiter } from '../../../src/core/dht/rate-limiter.js'
import { keyFromBytes } from '../../../src/core/ids.js'
import { makeContact } from '../../helpers/core-contacts.js'

const HOUR = 3_600_000
const key = keyFromBytes(new TextEncoder().encode('item'))

describe('core/dht/provider-store', () => {
  it('expires a record 24 h after it was last stored', () => {
    const s = new ProviderStore()
    s.add(0, key, makeContact('p'))
    expect(s.get(24 * HOUR - 1, key)).to.have.length(1)
    expect(s.get(24 * HOUR, key)).to.have.length(0)
    expect(s.size).to.equal(0)
  })

  it('refuses new providers and keys when full, but accepts refreshes', () => {
    const s = new ProviderStore({ maxKeys: 1, maxProvidersPerKey: 2 })
    expect(s.add(0, key, makeContact('a'))).to.equal('stored')
    expect(s.add(0, key, makeContact('b'))).to.equal('stored')
    expect(s.add(0, key, makeContact('c'))).to.equal('refused-full')
    expect(s.add(0, keyFromBytes(new Uint8Array([1])), makeContact('a'))).to.equal('refused-full')
    expect(s.add(5, key, makeContact('a'))).to.equal('refreshed')
  })
})

describe('core/dht/dht-node limits and republish', () => {
  it('republishes its own records every 12 h so they never expire remotely', () => {
    const self = makeContact('self')
    const other = makeContact('other')
    const node = new DhtNode({ self })
    node.peerAuthenticated(0, other)
    const first = node.provide(0, key).effects
    const find = first.find(e => e.type === 'send')!
    expect(find.type === 'send' && find.message.type).to.equal('get-providers')
    expect(node.nextDeadlineMs()).to.equal(5000)
    if (find.type !== 'send') return
    const after = node.handleMessage(1, other, { type: 'get-providers-reply', requestId: find.message.requestId, providers: [], closer: [] })
    const add = after.find(e => e.type === 'send' && e.message.type === 'add-provider')
    expect(add).to.not.equal(undefined)
    expect(node.nextDeadlineMs()).to.be.at.most(12 * HOUR)
    const republish = node.handleTimeout(12 * HOUR)
    expect(republish.some(e => e.type === 'send' && e.message.type === 'get-providers')).to.equal(true)
  })

  it('does not look a key up again when it is provided again while its last announcement is still live', () => {
    const self = makeContact('self')
    const other = makeContact('other')
    const node = new DhtNode({ self })
    node.peerAuthenticated(0, other)
    const find = node.provide(0, key).effects.find(e => e.type === 'send')!
    if (find.type !== 'send') throw new Error('no find-node')
    node.handleMessage(1, other, { type: 'find-node-reply', requestId: find.message.requestId, closer: [] })
    node.unprovide(key)
    expect(node.isProviding(key)).to.equal(false)
    // 11 h later: records stored at t = 1 live until 24 h, the next republish (23 h) comes first.
    const again = node.provide(11 * HOUR, key)
    expect(again.lookupId).to.equal(undefined)
    expect(again.effects).to.deep.equal([])
    expect(node.isProviding(key)).to.equal(true)
    expect(node.handleTimeout(23 * HOUR).some(e => e.type === 'send' && e.message.type === 'get-providers')).to.equal(true)
    // Past TTL - republish interval after the announcement, a new provide looks up again.
    const node2 = new DhtNode({ self })
    node2.peerAuthenticated(0, other)
    const f2 = node2.provide(0, key).effects.find(e => e.type === 'send')!
    if (f2.type !== 'send') throw new Error('no find-node')
    node2.handleMessage(1, other, { type: 'find-node-reply', requestId: f2.message.requestId, closer: [] })
    node2.unprovide(key)
    expect(node2.provide(12 * HOUR + 2, key).lookupId).to.not.equal(undefined)
  })

  it('adds no record of its own for a key that already has wellProvidedAt other providers', () => {
    const self = makeContact('self')
    const other = makeContact('other')
    const holders = Array.from({ length: 3 }, (_, i) => makeContact(`holder${i}`))
    const run = (wellProvidedAt: number, providers: Contact[]): DhtEffect[] => {
      const node = new DhtNode({ self, wellProvidedAt })
      node.peerAuthenticated(0, other)
      const ask = node.provide(0, key).effects.find(e => e.type === 'send')!
      if (ask.type !== 'send') throw new Error('no lookup request')
      return node.handleMessage(1, other, { type: 'get-providers-reply', requestId: ask.message.requestId, providers, closer: [] })
    }
    const adds = (effects: DhtEffect[]): number => effects.filter(e => e.type === 'send' && e.message.type === 'add-provider').length
    const done = (effects: DhtEffect[]): boolean | undefined => { const d = effects.find(e => e.type === 'lookup-done'); return d?.type === 'lookup-done' ? d.announced : undefined }
    const well = run(3, holders)
    expect(adds(well)).to.equal(0)
    expect(done(well)).to.equal(false)
    // Our own record among those found does not count; two others are not enough.
    const thin = run(3, [self, ...holders.slice(0, 2)])
    expect(adds(thin)).to.equal(1)
    expect(done(thin)).to.equal(true)
    // Infinity: the classic provide, a find-node lookup and add-provider whatever exists.
    const node = new DhtNode({ self, wellProvidedAt: Infinity })
    node.peerAuthenticated(0, other)
    const ask = node.provide(0, key).effects.find(e => e.type === 'send')!
    expect(ask.type === 'send' && ask.message.type).to.equal('find-node')
  })

  it('looks a key up again when its earlier provide reached nobody', () => {
    const node = new DhtNode({ self: makeContact('self') })
    node.provide(0, key) // empty table: the lookup ends at once, no add-provider went out
    node.unprovide(key)
    expect(node.provide(1000, key).lookupId).to.not.equal(undefined)
  })

  it('answers a flood with rate-limited, then drops and penalizes the flooder', () => {
    const node = new DhtNode({ self: makeContact('self'), rateLimit: { ratePerSec: 1, burst: 5, banScore: -20 } })
    const flooder = makeContact('flooder')
    node.peerAuthenticated(0, flooder)
    expect(node.table.size).to.equal(1)
    const replies: string[] = []
    const penalties: string[] = []
    for (let i = 0; i < 20; i++) {
      for (const e of node.handleMessage(0, flooder, { type: 'ping', requestId: i })) {
        if (e.type === 'send') replies.push(e.message.type)
        if (e.type === 'penalize') penalties.push(e.peer)
      }
    }
    expect(replies.slice(0, 5)).to.deep.equal(['pong', 'pong', 'pong', 'pong', 'pong'])
    expect(replies.slice(5)).to.include('error')
    expect(penalties).to.deep.equal(['flooder'])
    expect(node.table.size).to.equal(0)
    // Banned: ignored, and not re-admitted to the table.
    expect(node.handleMessage(1000, flooder, { type: 'ping', requestId: 99 })).to.have.length(0)
    node.peerAuthenticated(1000, flooder)
    expect(node.table.size).to.equal(0)
  })

  it('forgets peers at rest (full bucket, clean score) but keeps a penalized one until it recovered', () => {
    const l = new RateLimiter({ ratePerSec: 10, burst: 20, recoveryPerHour: 50 })
    l.fault(0, 'bad', 90) // score -90: recovers in 1.8 h
    for (let i = 0; i < 5000; i++) l.take(1000 + i * 1000, `peer${i}`)
    // One request a second from a new peer each time: only the last few are not yet refilled, plus the penalized one.
    expect(l.trackedPeers).to.be.at.most(4)
    expect(l.score(5000 * 1000, 'bad')).to.be.lessThan(0)
    for (let i = 0; i < 2000; i++) l.take(6_000_000 + i * 1000, `late${i}`)
    expect(l.score(8_000_000, 'bad')).to.equal(0)
    expect(l.trackedPeers).to.be.at.most(3)
  })

  it('refills tokens over time for a well-behaved peer', () => {
    const node = new DhtNode({ self: makeContact('self'), rateLimit: { ratePerSec: 1, burst: 1 } })
    const p = makeContact('p')
    const kinds = [0, 500, 1000, 2000].map(t => node.handleMessage(t, p, { type: 'ping', requestId: t })[0])
    expect(kinds.map(e => e.type === 'send' ? e.message.type : e.type)).to.deep.equal(['pong', 'error', 'pong', 'pong'])
  })

  it('penalizes a peer after two protocol violations', () => {
    const node = new DhtNode({ self: makeContact('self') })
    expect(node.protocolViolation(0, 'x', 'oversized')).to.have.length(0)
    expect(node.protocolViolation(0, 'x', 'oversized')).to.deep.equal([{ type: 'penalize', peer: 'x', reason: 'oversized' }])
  })

  it('stores the authenticated sender as provider, not a claimed one', () => {
    const node = new DhtNode({ self: makeContact('self') })
    const sender = makeContact('sender')
    node.handleMessage(0, sender, { type: 'add-provider', requestId: 1, key })
    expect(node.providers.get(0, key).map(p => p.peerId)).to.deep.equal(['sender'])
  })
})

describe('core/messages/dht-messages', () => {
  it('rejects messages over the contact limit and accepts a full reply', () => {
    const many = Array.from({ length: MAX_CONTACTS_PER_MESSAGE + 1 }, (_, i) => makeContact(`c${i}`))
    expect(() => checkDhtMessage({ type: 'find-node-reply', requestId: 1, closer: many })).to.throw(DhtMessageLimitError)
    expect(checkDhtMessage({ type: 'find-node-reply', requestId: 1, closer: many.slice(1) })).to.be.greaterThan(0)
    expect(() => checkDhtMessage({ type: 'query', requestId: 1, key: new Uint8Array(3) })).to.throw(DhtMessageLimitError)
  })
})

describe('core/dht/dht-node dead contacts', () => {
  const lookupRequestTo = (effects: DhtEffect[], peerId: string): number | undefined => {
    for (const e of effects) if (e.type === 'send' && e.to.peerId === peerId && e.message.type === 'find-node') return e.message.requestId
    return undefined
  }

  it('removes a table contact after two unanswered requests in a row, and at once on not-a-dht-node', () => {
    const node = new DhtNode({ self: makeContact('self') })
    const dead = makeContact('dead')
    const demoted = makeContact('demoted')
    node.peerAuthenticated(0, dead)
    node.peerAuthenticated(0, demoted)
    const first = node.findNode(0, keyFromBytes(new Uint8Array([7]))).effects
    expect(lookupRequestTo(first, 'dead')).to.not.equal(undefined)
    const toDemoted = lookupRequestTo(first, 'demoted')!
    node.handleMessage(1, demoted, { type: 'error', requestId: toDemoted, code: 'not-a-dht-node' })
    expect(node.table.get(demoted.id)).to.equal(undefined)
    node.handleTimeout(10_000) // first timeout: a stall is possible, it stays
    expect(node.table.get(dead.id)).to.not.equal(undefined)
    node.findNode(20_000, keyFromBytes(new Uint8Array([8])))
    node.handleTimeout(30_000)
    expect(node.table.get(dead.id)).to.equal(undefined)
  })

  it('stops naming a contact whose connection closed, and evicts it at its first failed request', () => {
    const node = new DhtNode({ self: makeContact('self') })
    const asker = makeContact('asker')
    const gone = makeContact('gone')
    const back = makeContact('back')
    for (const c of [asker, gone, back]) node.peerAuthenticated(0, c)
    const target = keyFromBytes(new Uint8Array([9]))
    const named = (nowMs: number): string[] => {
      const e = node.handleMessage(nowMs, asker, { type: 'find-node', requestId: nowMs, target })
      const m = e.find(x => x.type === 'send')
      return m?.type === 'send' && m.message.type === 'find-node-reply' ? m.message.closer.map(c => c.peerId).sort() : []
    }
    expect(named(1)).to.deep.equal(['back', 'gone'])
    node.peerDisconnected(gone.id)
    node.peerDisconnected(back.id)
    expect(named(2)).to.deep.equal([])
    node.peerAuthenticated(3, back) // a new connection: good again
    expect(named(4)).to.deep.equal(['back'])
    // Our own lookups start from connected contacts while there are any.
    expect(lookupRequestTo(node.findNode(5, target).effects, 'gone')).to.equal(undefined)
    // When it is all a node knows, the lookup tries it, and one failure evicts it (two for a connected contact).
    const lonely = new DhtNode({ self: makeContact('lonely') })
    lonely.peerAuthenticated(0, gone)
    lonely.peerDisconnected(gone.id)
    expect(lookupRequestTo(lonely.findNode(1, target).effects, 'gone')).to.not.equal(undefined)
    lonely.handleTimeout(10_000)
    expect(lonely.table.get(gone.id)).to.equal(undefined)
  })
})
