import { expect } from 'chai'
import { keyFromBytes } from '../../../src/core/ids.js'
import type { Contact } from '../../../src/core/dht/contact.js'
import { RelayRetry } from '../../../src/core/reach/relay-retry.js'

const relay = (name: string): Contact => ({ id: keyFromBytes(new TextEncoder().encode(name)), peerId: name, addrs: [`/ip4/198.18.0.${name.length}/tcp/4001`] })
const ids = (cs: Contact[]): string[] => cs.map(c => c.peerId)

describe('core/reach/relay-retry', () => {
  it('asks the wanted relays in order, up to maxReservations held or being made', () => {
    const r = new RelayRetry({ maxReservations: 3 })
    const wanted = [relay('a'), relay('b'), relay('c'), relay('d')]
    expect(ids(r.toReserve(0, wanted, new Set()))).to.deep.equal(['a', 'b', 'c'])
    expect(ids(r.toReserve(0, wanted, new Set(['a', 'b'])))).to.deep.equal(['c'])
    expect(ids(r.toReserve(0, wanted, new Set(['a', 'b', 'c'])))).to.deep.equal([])
  })

  it('asks a relay that refused again after retryFailedMs, and one that did not relay only after retryBrokenMs', () => {
    const r = new RelayRetry({ retryFailedMs: 30_000, retryBrokenMs: 1_800_000 })
    const wanted = [relay('refused'), relay('broken'), relay('fine')]
    r.failed(1000, 'refused')
    r.broken(1000, 'broken')
    expect(ids(r.toReserve(2000, wanted, new Set()))).to.deep.equal(['fine'])
    expect(ids(r.toReserve(31_000, wanted, new Set()))).to.deep.equal(['refused', 'fine'])
    expect(ids(r.toReserve(1_801_000, wanted, new Set()))).to.deep.equal(['refused', 'broken', 'fine'])
    // A reservation granted forgets the refusal at once.
    r.failed(2_000_000, 'refused')
    r.reserved('refused')
    expect(ids(r.toReserve(2_000_001, wanted, new Set()))).to.deep.equal(['refused', 'broken', 'fine'])
  })

  it('remembers at most maxRemembered relays of each kind, forgetting the oldest', () => {
    const r = new RelayRetry({ maxRemembered: 2, maxReservations: 10 })
    for (const name of ['x', 'y', 'z']) r.broken(0, name)
    expect(ids(r.toReserve(1, [relay('x'), relay('y'), relay('z')], new Set()))).to.deep.equal(['x'])
  })

  it('refuses bad options', () => {
    expect(() => new RelayRetry({ maxReservations: -1 })).to.throw(RangeError)
    expect(() => new RelayRetry({ retryFailedMs: -5 })).to.throw(RangeError)
    expect(() => new RelayRetry({ maxRemembered: 0 })).to.throw(RangeError)
  })
})
