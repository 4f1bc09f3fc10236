import { expect } from 'chai'
import { fleetOwners, planFleetChange, rendezvousOrder } from '../../../src/core/fleet/rendezvous.js'

const seeders = ['peerA', 'peerB', 'peerC', 'peerD']
const items = Array.from({ length: 400 }, (_, i) => `item-${i}`)

describe('core/fleet: rendezvous placement', () => {
  it('gives each item `replication` distinct owners, the head of its full order', () => {
    for (const id of items.slice(0, 50)) {
      const owners = fleetOwners(id, seeders, 2)
      expect(new Set(owners).size).to.equal(2)
      expect(owners).to.deep.equal(rendezvousOrder(id, seeders).slice(0, 2))
      expect(fleetOwners(id, [...seeders].reverse(), 2)).to.deep.equal(owners)
    }
  })

  it('spreads items over the seeders about evenly', () => {
    const load = new Map<string, number>()
    for (const id of items) for (const o of fleetOwners(id, seeders, 2)) load.set(o, (load.get(o) ?? 0) + 1)
    // 800 placements over 4 seeders: 200 each expected.
    for (const s of seeders) expect(load.get(s)).to.be.within(150, 250)
  })

  it('adding a seeder moves to it only the items it gains, and each loses exactly one old owner', () => {
    const moves = planFleetChange(items, seeders, [...seeders, 'peerE'], 2)
    expect(moves.length).to.be.within(100, 220) // about 2/5 of the items
    for (const m of moves) {
      expect(m.gains).to.deep.equal(['peerE'])
      expect(m.losses).to.have.length(1)
    }
    const unmoved = items.filter(id => !moves.some(m => m.contentId === id))
    for (const id of unmoved) expect(fleetOwners(id, [...seeders, 'peerE'])).to.deep.equal(fleetOwners(id, seeders))
  })

  it('removing a seeder moves only its own items, each to the next seeder of that item\'s order', () => {
    const after = seeders.filter(s => s !== 'peerB')
    const moves = planFleetChange(items, seeders, after, 2)
    const owned = items.filter(id => fleetOwners(id, seeders).includes('peerB'))
    expect(moves.map(m => m.contentId)).to.deep.equal(owned)
    for (const m of moves) {
      expect(m.losses).to.deep.equal(['peerB'])
      expect(m.gains).to.deep.equal([rendezvousOrder(m.contentId, seeders)[2]])
    }
  })

  it('refuses a replication factor below 1', () => {
    expect(() => fleetOwners('x', seeders, 0)).to.throw(RangeError)
  })
})
