import { expect } from 'chai'
import { BusyAlternatives, MAX_NAMED_ALTERNATIVES } from '../../../src/core/swarm/busy-alternatives.js'

interface Holder { id: string, origin?: boolean, distance: number }

const make = (init: { refreshMs?: number, maxItems?: number } = {}): BusyAlternatives<Holder> =>
  new BusyAlternatives<Holder>({ self: 'me', peerIdOf: h => h.id, isOrigin: h => h.origin === true, ...init })
/** Nearest to the requester first: here a holder's `distance`. */
const byDistance = (hs: Holder[]): Holder[] => [...hs].sort((a, b) => a.distance - b.distance)
const ids = (hs: Holder[]): string[] => hs.map(h => h.id)

describe('core/swarm/busy-alternatives', () => {
  it('asks for one find per item, names nothing until it answers, then names its holders nearest to the requester first', () => {
    const a = make({ refreshMs: 5000 })
    const first = a.namedTo(0, 'item', 'r1', true, byDistance)
    expect(first).to.deep.equal({ named: [], findDue: true })
    // The find runs: other chokes meanwhile start no second one.
    expect(a.namedTo(100, 'item', 'r2', true, byDistance).findDue).to.equal(false)
    const isNew = a.found(200, 'item', [{ id: 'far', distance: 9 }, { id: 'near', distance: 1 }, { id: 'o', origin: true, distance: 0 }, { id: 'me', distance: 0 }])
    expect(isNew, 'new holders: tell the choked requesters again').to.equal(true)
    // Origins and this node are never named; nearest to the requester first.
    expect(ids(a.namedTo(300, 'item', 'r1', true, byDistance).named)).to.deep.equal(['near', 'far'])
    // The requester itself is not named to itself.
    expect(ids(a.namedTo(300, 'item', 'near', true, byDistance).named)).to.deep.equal(['far'])
  })

  it('names nobody and starts no find while the item is not busy, even with holders known', () => {
    const a = make({ refreshMs: 5000 })
    expect(a.namedTo(0, 'item', 'r1', false, byDistance)).to.deep.equal({ named: [], findDue: false })
    expect(a.size, 'an item that is not busy is not remembered').to.equal(0)
    a.namedTo(0, 'item', 'r1', true, byDistance)
    a.found(100, 'item', [{ id: 'h1', distance: 1 }])
    expect(a.namedTo(200, 'item', 'r1', false, byDistance).named).to.deep.equal([])
    expect(ids(a.namedTo(300, 'item', 'r1', true, byDistance).named)).to.deep.equal(['h1'])
    // Asked while not busy after the refresh time: still no find until it is busy again.
    expect(a.namedTo(9000, 'item', 'r1', false, byDistance).findDue).to.equal(false)
    expect(a.namedTo(9000, 'item', 'r1', true, byDistance).findDue).to.equal(true)
  })

  it('reuses an answer for refreshMs, then finds again; the same holders again are not news', () => {
    const a = make({ refreshMs: 5000 })
    a.namedTo(0, 'item', 'r', true, byDistance)
    a.found(1000, 'item', [{ id: 'h1', distance: 1 }])
    expect(a.namedTo(5999, 'item', 'r', true, byDistance).findDue).to.equal(false)
    expect(a.namedTo(6000, 'item', 'r', true, byDistance).findDue).to.equal(true)
    expect(a.found(6100, 'item', [{ id: 'h1', distance: 1 }])).to.equal(false)
    expect(a.namedTo(11_100, 'item', 'r', true, byDistance).findDue).to.equal(true)
    // A failed find keeps the last answer and waits refreshMs before the next.
    a.findFailed(11_200, 'item')
    expect(ids(a.namedTo(11_300, 'item', 'r', true, byDistance).named)).to.deep.equal(['h1'])
    expect(a.namedTo(16_199, 'item', 'r', true, byDistance).findDue).to.equal(false)
    expect(a.namedTo(16_200, 'item', 'r', true, byDistance).findDue).to.equal(true)
  })

  it('names at most MAX_NAMED_ALTERNATIVES holders', () => {
    const a = make()
    a.namedTo(0, 'item', 'r', true, byDistance)
    a.found(0, 'item', Array.from({ length: 20 }, (_, i) => ({ id: `h${i}`, distance: 20 - i })))
    const named = a.namedTo(1, 'item', 'r', true, byDistance).named
    expect(named).to.have.length(MAX_NAMED_ALTERNATIVES)
    expect(named[0].id).to.equal('h19')
  })

  it('remembers at most maxItems items, forgetting the one asked about longest ago', () => {
    const a = make({ maxItems: 2 })
    a.namedTo(0, 'a', 'r', true, byDistance)
    a.namedTo(0, 'b', 'r', true, byDistance)
    a.namedTo(1, 'a', 'r', true, byDistance) // a asked again: b is now the oldest
    a.namedTo(2, 'c', 'r', true, byDistance)
    expect(a.size).to.equal(2)
    expect(a.found(3, 'b', [{ id: 'h', distance: 1 }]), 'b was forgotten').to.equal(false)
    expect(a.found(3, 'a', [{ id: 'h', distance: 1 }])).to.equal(true)
  })

  it('refuses bad options', () => {
    expect(() => make({ refreshMs: -1 })).to.throw(RangeError)
    expect(() => make({ maxItems: 0 })).to.throw(RangeError)
  })
})
