import { expect } from 'chai'
import { DeliveryLedger, emptyDeliveryReport, type DeliveryReport } from '../../../src/core/accounting/delivery-ledger.js'

function report (id: string, originSameAs: number, peerSameAs: number, peerOtherAs = 0): DeliveryReport {
  const r = emptyDeliveryReport(id)
  r.origin['same-as'] = originSameAs
  r.peer['same-as'] = peerSameAs
  r.peer['other-as'] = peerOtherAs
  return r
}

describe('core/accounting/delivery-ledger', () => {
  it('adds an accepted report to the totals by source kind and locality', () => {
    const l = new DeliveryLedger()
    expect(l.accept(0, 'p1', report('a', 100, 800, 100), 1000)).to.equal('accepted')
    expect(l.origin['same-as']).to.equal(100)
    expect(l.peer).to.deep.equal({ 'same-as': 800, 'same-prefix': 0, 'other-as': 100, unknown: 0 })
  })

  it('takes one report per peer and item; another peer or item is counted', () => {
    const l = new DeliveryLedger()
    expect(l.accept(0, 'p1', report('a', 0, 10), 1000)).to.equal('accepted')
    expect(l.accept(1, 'p1', report('a', 0, 10), 1000)).to.equal('duplicate')
    expect(l.accept(2, 'p2', report('a', 0, 10), 1000)).to.equal('accepted')
    expect(l.accept(3, 'p1', report('b', 0, 10), 1000)).to.equal('accepted')
    expect(l.peer['same-as']).to.equal(30)
    expect(l.verdicts).to.include({ accepted: 3, duplicate: 1 })
  })

  it('refuses items it does not hold, negative or fractional counts, and totals over twice the item length', () => {
    const l = new DeliveryLedger()
    expect(l.accept(0, 'p', report('a', 0, 10), undefined)).to.equal('unknown-item')
    expect(l.accept(0, 'p', report('a', -1, 10), 1000)).to.equal('invalid')
    expect(l.accept(0, 'p', report('a', 0.5, 10), 1000)).to.equal('invalid')
    expect(l.accept(0, 'p', report('a', 1000, 1001), 1000)).to.equal('invalid')
    expect(l.accept(0, 'p', report('a', 1000, 1000), 1000)).to.equal('accepted')
  })

  it('rate-limits one peer to its burst, then to the per-minute rate', () => {
    const l = new DeliveryLedger({ burstReports: 3, reportsPerMinute: 6 })
    const verdicts = [0, 1, 2, 3].map(i => l.accept(0, 'p', report(`i${i}`, 0, 1), 10))
    expect(verdicts).to.deep.equal(['accepted', 'accepted', 'accepted', 'rate-limited'])
    expect(l.accept(9_999, 'p', report('late', 0, 1), 10)).to.equal('rate-limited')
    expect(l.accept(10_000, 'p', report('late', 0, 1), 10)).to.equal('accepted')
    expect(l.accept(10_000, 'other', report('x', 0, 1), 10)).to.equal('accepted')
  })

  it('forgets the oldest pairs beyond its bound (memory stays bounded)', () => {
    const l = new DeliveryLedger({ maxRemembered: 2, burstReports: 100 })
    for (const id of ['a', 'b', 'c']) expect(l.accept(0, 'p', report(id, 0, 1), 10)).to.equal('accepted')
    expect(l.accept(0, 'p', report('c', 0, 1), 10)).to.equal('duplicate')
    expect(l.accept(0, 'p', report('a', 0, 1), 10)).to.equal('accepted')
  })
})
