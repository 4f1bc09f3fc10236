import { expect } from 'chai'
import { compareDistance, keyFromBytes, keysEqual } from '../../../src/core/ids.js'
import { FakeNetwork, makeContact, seededRandom } from './fake-network.js'
import type { Contact } from '../../../src/core/dht/contact.js'

function buildNetwork (n: number, seed: number): { net: FakeNetwork, contacts: Contact[] } {
  const net = new FakeNetwork()
  const rnd = seededRandom(seed)
  const contacts: Contact[] = []
  for (let i = 0; i < n; i++) {
    const c = makeContact(`peer-${seed}-${i}`, `10.${i >> 8}.${i & 255}.1`)
    contacts.push(c)
    const node = net.add(c, { nextRequestId: undefined })
    if (i === 0) continue
    // Join through one random earlier node, as a fresh supernode would through a seeder.
    const seedContact = contacts[Math.floor(rnd() * i)]
    net.push(c, node.peerAuthenticated(net.nowMs, seedContact))
    net.push(c, node.bootstrap(net.nowMs, [seedContact]).effects)
    net.run()
  }
  return { net, contacts }
}

function trueClosest (contacts: Contact[], target: Uint8Array, k: number): string[] {
  return contacts.slice().sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, k).map(c => c.peerId)
}

describe('core/dht/dht-node', () => {
  const { net, contacts } = buildNetwork(300, 7)

  it('converges on the true 20 closest of 300 in-memory nodes', () => {
    let exact = 0
    for (let t = 0; t < 20; t++) {
      const target = keyFromBytes(new TextEncoder().encode(`target-${t}`))
      const asker = contacts[(t * 37) % contacts.length]
      net.done.length = 0
      net.push(asker, net.nodes.get(asker.peerId)!.findNode(net.nowMs, target).effects)
      net.run()
      expect(net.done).to.have.length(1)
      const res = net.done[0].result
      const want = trueClosest(contacts.filter(c => !keysEqual(c.id, asker.id)), target, 20)
      const got = res.closest.map(c => c.peerId)
      if (JSON.stringify(got) === JSON.stringify(want)) exact++
      expect(res.rpcs).to.be.greaterThan(0)
      expect(res.hops).to.be.within(1, 12)
    }
    expect(exact).to.equal(20)
  })

  it('finds a provider announced by another node', () => {
    const key = keyFromBytes(new TextEncoder().encode('content-1'))
    const provider = contacts[5]
    net.push(provider, net.nodes.get(provider.peerId)!.provide(net.nowMs, key).effects)
    net.run()
    net.done.length = 0
    const asker = contacts[250]
    net.push(asker, net.nodes.get(asker.peerId)!.getProviders(net.nowMs, key, 1).effects)
    net.run()
    const done = net.done.find(d => d.purpose === 'get-providers')!
    expect(done.result.providers.map(p => p.peerId)).to.deep.equal([provider.peerId])
  })

  it('stores a record on the 20 closest, and a get-providers lookup ends once the 3 closest answered', () => {
    const key = keyFromBytes(new TextEncoder().encode('content-resiliency'))
    const provider = contacts[17]
    net.done.length = 0
    net.push(provider, net.nodes.get(provider.peerId)!.provide(net.nowMs, key).effects)
    net.run()
    // closestKnown: the provide's add-provider reaches the true 20 closest, asked by the lookup or not.
    const holders = contacts.filter(c => c !== provider && net.nodes.get(c.peerId)!.providers.get(net.nowMs, key).length > 0).map(c => c.peerId)
    expect(holders.sort()).to.deep.equal(trueClosest(contacts.filter(c => c !== provider), key, 20).sort())
    let providerRpcs = 0
    let findRpcs = 0
    for (let t = 0; t < 10; t++) {
      const asker = contacts[(t * 29 + 3) % contacts.length]
      net.done.length = 0
      net.push(asker, net.nodes.get(asker.peerId)!.getProviders(net.nowMs, key).effects)
      net.push(asker, net.nodes.get(asker.peerId)!.findNode(net.nowMs, key).effects)
      net.run()
      const gp = net.done.find(d => d.purpose === 'get-providers')!.result
      expect(gp.providers.map(p => p.peerId)).to.include(provider.peerId)
      providerRpcs += gp.rpcs
      findRpcs += net.done.find(d => d.purpose === 'find-node')!.result.rpcs
    }
    // find-node keeps the paper's rule (all 20 closest answered): at least 20 requests each.
    expect(findRpcs).to.be.at.least(200)
    expect(providerRpcs).to.be.below(findRpcs / 2)
  })

  it('still converges on the live closest when a quarter of the nodes vanished', () => {
    const rnd = seededRandom(99)
    for (const c of contacts.slice(1)) if (rnd() < 0.25) net.dead.add(c.peerId)
    const live = contacts.filter(c => !net.dead.has(c.peerId))
    const target = keyFromBytes(new TextEncoder().encode('after-loss'))
    const asker = live[3]
    net.done.length = 0
    net.push(asker, net.nodes.get(asker.peerId)!.findNode(net.nowMs, target).effects)
    net.run(net.nowMs + 600_000)
    const res = net.done[0].result
    expect(res.failures).to.be.greaterThan(0)
    const want = trueClosest(live.filter(c => c !== asker), target, 20)
    expect(res.closest.map(c => c.peerId)).to.deep.equal(want)
    net.dead.clear()
  })
})
