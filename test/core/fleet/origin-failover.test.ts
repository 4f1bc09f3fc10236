import { expect } from 'chai'
import { OriginFailover } from '../../../src/core/fleet/origin-failover.js'

describe('core/fleet: origin failover', () => {
  it('uses the first origin, moves to the next when it is lost, and measures the time lost', () => {
    const f = new OriginFailover({ order: ['a', 'b', 'c'], failoverAfterMs: 5000 })
    expect(f.start(0)).to.equal('a')
    f.pieceReceived(1000, 'a')
    f.pieceReceived(1200, 'a')
    expect(f.sourceLost(1300, 'peer-x')).to.equal(undefined)
    expect(f.sourceLost(1500, 'a')).to.equal('b')
    expect(f.active).to.equal('b')
    f.pieceReceived(1900, 'b')
    expect(f.events).to.deep.equal([{ from: 'a', to: 'b', reason: 'lost', atMs: 1500, lostMs: 700 }])
  })

  it('adds the next origin and drops the stalled one when no piece arrived for failoverAfterMs, and gives the new one a full period', () => {
    const f = new OriginFailover({ order: ['a', 'b', 'c'], failoverAfterMs: 5000 })
    f.start(0)
    f.pieceReceived(2000, 'a')
    expect(f.nextDeadlineMs()).to.equal(7000)
    expect(f.timer(6999)).to.equal(undefined)
    expect(f.timer(7000)).to.deep.equal({ add: 'b', drop: 'a' })
    expect(f.nextDeadlineMs()).to.equal(12000)
    f.pieceReceived(8000, 'b')
    expect(f.events[0]).to.deep.include({ from: 'a', to: 'b', reason: 'stalled', lostMs: 6000 })
  })

  it('has nothing to add once every origin was tried, and stops after finish', () => {
    const f = new OriginFailover({ order: ['a', 'b'], failoverAfterMs: 1000 })
    f.start(0)
    expect(f.sourceLost(10, 'a')).to.equal('b')
    expect(f.nextDeadlineMs()).to.equal(undefined)
    expect(f.sourceLost(20, 'b')).to.equal(undefined)
    const g = new OriginFailover({ order: ['a', 'b'], failoverAfterMs: 1000 })
    g.start(0)
    g.finish()
    expect(g.sourceLost(5, 'a')).to.equal(undefined)
    expect(g.nextDeadlineMs()).to.equal(undefined)
  })

  it('orders delivery report targets: the origin in use, then the untried ones in rendezvous order, never a lost or stalled one', () => {
    const f = new OriginFailover({ order: ['a', 'b', 'c', 'd'], failoverAfterMs: 1000 })
    f.start(0)
    expect(f.reportOrder()).to.deep.equal(['a', 'b', 'c', 'd'])
    expect(f.sourceLost(100, 'a')).to.equal('b')
    expect(f.reportOrder()).to.deep.equal(['b', 'c', 'd'])
    expect(f.timer(2000)).to.deep.equal({ add: 'c', drop: 'b' })
    expect(f.reportOrder()).to.deep.equal(['c', 'd'])
    expect(f.sourceLost(2100, 'c')).to.equal('d')
    expect(f.sourceLost(2200, 'd')).to.equal(undefined)
    // Every origin failed: nobody left to report to.
    expect(f.reportOrder()).to.deep.equal([])
  })
})
