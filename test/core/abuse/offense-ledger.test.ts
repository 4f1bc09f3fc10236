import { expect } from 'chai'
import { OffenseLedger } from '../../../src/core/abuse/offense-ledger.js'

describe('core/abuse/offense-ledger: one offender policy', () => {
  it('bans a peer at its third offense within the window, for banMs', () => {
    const l = new OffenseLedger({ maxOffenses: 3, windowMs: 1000, banMs: 5000 })
    expect(l.record(0, 'a').banned).to.equal(false)
    expect(l.record(10, 'a').banned).to.equal(false)
    expect(l.isBanned(10, 'a')).to.equal(false)
    expect(l.record(20, 'a').banned).to.equal(true)
    expect(l.isBanned(5019, 'a')).to.equal(true)
    expect(l.isBanned(5020, 'a')).to.equal(false)
  })

  it('forgets offenses older than the window', () => {
    const l = new OffenseLedger({ maxOffenses: 3, windowMs: 1000 })
    l.record(0, 'a'); l.record(10, 'a')
    expect(l.record(1010, 'a').banned).to.equal(false)
    expect(l.weight(1010, 'a')).to.equal(1)
  })

  it('counts weights, and a banned peer does not pile up more', () => {
    const l = new OffenseLedger({ maxOffenses: 3, banMs: 100 })
    expect(l.record(0, 'a', 3).banned).to.equal(true)
    expect(l.record(1, 'a', 3).banned).to.equal(false)
    expect(l.isBanned(100, 'a')).to.equal(false)
    expect(l.weight(100, 'a')).to.equal(0)
  })

  it('remembers at most maxTrackedPeers, dropping the least recently recorded', () => {
    const l = new OffenseLedger({ maxTrackedPeers: 2, maxOffenses: 1 })
    l.record(0, 'a'); l.record(0, 'b'); l.record(0, 'c')
    expect(l.size).to.equal(2)
    expect(l.isBanned(1, 'a')).to.equal(false)
    expect(l.isBanned(1, 'c')).to.equal(true)
  })

  it('rejects nonsense limits', () => {
    expect(() => new OffenseLedger({ maxOffenses: 0 })).to.throw(RangeError)
    expect(() => new OffenseLedger({ banMs: Number.NaN })).to.throw(RangeError)
  })
})
