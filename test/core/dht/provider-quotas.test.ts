import { expect } from 'chai'
import { DhtNode, type DhtEffect } from '../../../src/core/dht/dht-node.js'
import { ProviderAdmission, sourceNetworkOf } from '../../../src/core/dht/provider-admission.js'
import { ProviderStore } from '../../../src/core/dht/provider-store.js'
import { OverlayPeer, type OverlayPeerHost } from '../../../src/core/peer/overlay-peer.js'
import { OverlayOptionError } from '../../../src/core/peer/overlay-options.js'
import { keyFromBytes, type Key } from '../../../src/core/ids.js'
import type { Contact } from '../../../src/core/dht/contact.js'
import { makeContact } from '../../helpers/core-contacts.js'

const keyOf = (s: string): Key => keyFromBytes(new TextEncoder().encode(s))
const self = makeContact('self', '198.51.100.1')
let requestId = 1

/** One add-provider from `from` at `nowMs`; the node's answer ('ack', an error code) or 'penalized'. */
function addProvider (node: DhtNode, nowMs: number, from: Contact, key: Key): string {
  const effects: DhtEffect[] = node.handleMessage(nowMs, from, { type: 'add-provider', requestId: requestId++, key })
  if (effects.some(e => e.type === 'penalize')) return 'penalized'
  const reply = effects.find(e => e.type === 'send')
  if (reply?.type !== 'send') return 'none'
  return reply.message.type === 'error' ? reply.message.code : reply.message.type
}

/** A member whose rate limit does not get in the way (the quotas are under test). */
function member (admission: ProviderAdmission, store = {}): DhtNode {
  return new DhtNode({ self, providerAdmission: admission, providerStore: store, rateLimit: { ratePerSec: 1e6, burst: 1e6 } })
}

describe('core/dht provider record quotas and admission', () => {
  it('names a source network by /24 and /48, and exempts local addresses unless told not to', () => {
    expect(sourceNetworkOf('/ip4/203.0.113.77/tcp/1', true)).to.equal('203.0.113.0/24')
    expect(sourceNetworkOf('/ip6/2001:db8:1:2::5/tcp/1', true)).to.equal('2001:db8:1::/48')
    expect(sourceNetworkOf('/ip4/127.66.0.9/tcp/1', true)).to.equal(null)
    expect(sourceNetworkOf('/ip4/192.168.1.9/tcp/1', true)).to.equal(null)
    expect(sourceNetworkOf('/ip4/127.66.0.9/tcp/1', false)).to.equal('127.66.0.0/24')
  })

  it('caps 100 fresh identities of one network at its quota, and an honest provider of another network is still stored and served', () => {
    const admission = new ProviderAdmission({ minConnectionAgeMs: 1000 })
    const node = member(admission, { maxRecordsPerNetwork: 300, maxRecordsPerProvider: 50 })
    const flood = Array.from({ length: 100 }, (_, i) => makeContact(`sybil${i}`, `203.0.113.${i + 1}`))
    flood.forEach((c, i) => admission.connectionOpened(0, c.peerId, `c${i}`, `/ip4/${c.addrs[0].split('/')[2]}/tcp/5000`))
    const honest = makeContact('honest', '198.18.7.7')
    admission.connectionOpened(0, honest.peerId, 'h', '/ip4/198.18.7.7/tcp/4001')
    let most = 0
    let penalized = 0
    for (let round = 0; round < 40; round++) {
      for (const c of flood) {
        if (addProvider(node, 2000 + round, c, keyOf(`${c.peerId}-${round}`)) === 'penalized') penalized++
        most = Math.max(most, node.providers.recordsFromNetwork('203.0.113.0/24'))
      }
    }
    expect(most).to.equal(300)
    expect(node.providers.size).to.be.at.most(300)
    // Identities that kept pushing over the network's quota were banned (their records dropped, which let others in, up to the quota again).
    expect(penalized).to.be.above(0)
    const wanted = keyOf('a popular item')
    expect(addProvider(node, 3000, honest, wanted)).to.equal('ack')
    expect(node.providers.get(3000, wanted).map(c => c.peerId)).to.deep.equal(['honest'])
  })

  it('caps one identity at its quota and bans it when it keeps pushing', () => {
    const admission = new ProviderAdmission({ minConnectionAgeMs: 0 })
    const node = member(admission, { maxRecordsPerProvider: 10 })
    const greedy = makeContact('greedy', '198.51.100.20')
    const answers: string[] = []
    for (let i = 0; i < 40 && answers[answers.length - 1] !== 'penalized'; i++) answers.push(addProvider(node, 0, greedy, keyOf(`k${i}`)))
    expect(answers.slice(0, 10).every(a => a === 'ack')).to.equal(true)
    expect(answers[10]).to.equal('too-many-keys')
    // 20 refusals at 5 points reach the ban score of -100; the ban drops its records.
    expect(answers).to.have.length(30)
    expect(answers[29]).to.equal('penalized')
    expect(node.providers.recordsOf('greedy')).to.equal(0)
    expect(addProvider(node, 100, greedy, keyOf('later'))).to.equal('none')
  })

  it('lets at most maxProvidersPerNetworkPerKey providers of one network hold one key', () => {
    const node = member(new ProviderAdmission({ minConnectionAgeMs: 0 }), { maxProvidersPerNetworkPerKey: 2 })
    const item = keyOf('targeted item')
    const same = [1, 2, 3].map(i => makeContact(`n${i}`, `203.0.113.${i}`))
    expect(same.map(c => addProvider(node, 0, c, item))).to.deep.equal(['ack', 'ack', 'too-many-keys'])
    expect(addProvider(node, 0, makeContact('elsewhere', '198.51.100.9'), item)).to.equal('ack')
    expect(node.providers.get(0, item)).to.have.length(3)
  })

  it('serves a record only once its provider\'s connection is minConnectionAgeMs old, and refuses a provider with no connection', () => {
    const admission = new ProviderAdmission({ minConnectionAgeMs: 10_000 })
    const node = member(admission)
    const p = makeContact('p', '198.51.100.30')
    const item = keyOf('item')
    expect(addProvider(node, 0, p, item)).to.equal('rate-limited')
    admission.connectionOpened(1000, p.peerId, 'c1', '/ip4/198.51.100.30/tcp/4001')
    expect(addProvider(node, 1500, p, item)).to.equal('ack')
    expect(node.providers.get(10_999, item)).to.deep.equal([])
    expect(node.providers.get(11_000, item).map(c => c.peerId)).to.deep.equal(['p'])
    // A connection reported with its real opening time (it predates the report) counts from then.
    const q = makeContact('q', '198.51.100.31')
    admission.connectionOpened(20_000, q.peerId, 'c2', '/ip4/198.51.100.31/tcp/4001', 5000)
    addProvider(node, 20_000, q, item)
    expect(node.providers.get(20_000, item).map(c => c.peerId)).to.include('q')
  })

  it('drops the records that never counted when the provider\'s last connection closes, and keeps those that did', () => {
    const peer = new OverlayPeer(self, hostFor(), () => 0.5, [], { role: 'seeder', providerAdmission: { minConnectionAgeMs: 10_000 } })
    peer.start(0)
    const sybil = makeContact('sybil', '198.51.100.40')
    const honest = makeContact('honest', '198.51.100.41')
    peer.connectionOpened(0, honest.peerId, 'h1', '/ip4/198.51.100.41/tcp/1')
    peer.message(20_000, honest, 'supernode', { type: 'add-provider', requestId: 1, key: keyOf('a') })
    peer.connectionOpened(20_000, sybil.peerId, 's1', '/ip4/198.51.100.40/tcp/1')
    peer.connectionOpened(20_000, sybil.peerId, 's2', '/ip4/198.51.100.40/tcp/2')
    for (let i = 0; i < 5; i++) peer.message(20_001, sybil, 'supernode', { type: 'add-provider', requestId: 10 + i, key: keyOf(`s${i}`) })
    expect(peer.providerRecords).to.equal(6)
    peer.connectionClosed(20_500, sybil.peerId, 's1')
    expect(peer.providerRecords, 'one connection is still live').to.equal(6)
    peer.connectionClosed(21_000, sybil.peerId, 's2')
    expect(peer.providerRecords).to.equal(1)
    peer.connectionClosed(22_000, honest.peerId, 'h1')
    expect(peer.providerRecords, 'a record that counted outlives its connection').to.equal(1)
  })

  it('rejects a bad admission option at the edge', () => {
    expect(() => new OverlayPeer(self, hostFor(), () => 0.5, [], { providerAdmission: { minConnectionAgeMs: -1 } })).to.throw(OverlayOptionError)
  })

  it('keeps quota counts in step when records expire', () => {
    const s = new ProviderStore({ recordTtlMs: 100, maxRecordsPerNetwork: 1 })
    const a = makeContact('a')
    expect(s.add(0, keyOf('x'), a, { network: 'n', countsFromMs: 0 })).to.equal('stored')
    expect(s.add(0, keyOf('y'), makeContact('b'), { network: 'n', countsFromMs: 0 })).to.equal('refused-network-quota')
    expect(s.prune(100)).to.equal(1)
    expect(s.recordsFromNetwork('n')).to.equal(0)
    expect(s.recordsOf('a')).to.equal(0)
    expect(s.add(100, keyOf('y'), makeContact('b'), { network: 'n', countsFromMs: 0 })).to.equal('stored')
  })
})

function hostFor (): OverlayPeerHost {
  return {
    placeOf: () => ({ asn: 0, tieKey: 0 }),
    selfPlace: () => ({ asn: 0, tieKey: 0 }),
    heldKeys: () => [],
    policyInputs: () => ({ reachable: true, spareUploadBytesPerSec: 1e6 })
  }
}
