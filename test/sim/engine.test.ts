import { expect } from 'chai'
import { EventQueue, EventTimeError } from '../../sim/engine/event-queue.js'
import { RngStreams } from '../../sim/engine/rng.js'
import { NodeTimers } from '../../sim/engine/node-timers.js'
import { Simulator } from '../../sim/engine/simulator.js'

describe('sim/engine', () => {
  it('pops events at the same time in the order they were scheduled', () => {
    const q = new EventQueue(16)
    for (let i = 0; i < 100; i++) q.push(5, 0, i, 0)
    q.push(1, 0, -1, 0)
    const order: number[] = []
    while (q.pop()) order.push(q.topNode)
    expect(order).to.deep.equal([-1, ...Array.from({ length: 100 }, (_, i) => i)])
  })

  it('pops 50,000 random events in (time, seq) order, growing past its capacity', () => {
    const q = new EventQueue(16)
    const rng = new RngStreams(7).stream('test')
    const ref: Array<[number, number]> = []
    for (let i = 0; i < 50_000; i++) { const t = rng.int(1000); q.push(t, 1, 0, i); ref.push([t, i]) }
    ref.sort((a, b) => a[0] - b[0] || a[1] - b[1])
    for (const [t, i] of ref) {
      expect(q.pop()).to.equal(true)
      if (q.topTimeMs !== t || q.topArg !== i) expect.fail(`expected (${t}, ${i}) got (${q.topTimeMs}, ${q.topArg})`)
    }
    expect(q.pop()).to.equal(false)
  })

  it('refuses an event before the current time', () => {
    const sim = new Simulator()
    const k = sim.registerKind('x', () => { sim.schedule(1, k, 0, 0) })
    sim.schedule(10, k, 0, 0)
    expect(() => sim.run(100)).to.throw(EventTimeError)
  })

  it('advances virtual time only through events and stops at the horizon', () => {
    const sim = new Simulator()
    const seen: number[] = []
    const k = sim.registerKind('tick', (_n, _a, now) => { seen.push(now); sim.after(30, k, 0, 0) })
    sim.schedule(0, k, 0, 0)
    sim.run(100)
    expect(seen).to.deep.equal([0, 30, 60, 90])
    expect(sim.nowMs).to.equal(100)
  })

  it('gives each (seed, label, index) its own reproducible stream', () => {
    const a = new RngStreams(1); const b = new RngStreams(1); const c = new RngStreams(2)
    const draw = (s: RngStreams, label: string, i = 0): number[] => { const r = s.stream(label, i); return [r.float(), r.float(), r.float()] }
    expect(draw(a, 'churn', 3)).to.deep.equal(draw(b, 'churn', 3))
    expect(draw(a, 'churn', 3)).to.not.deep.equal(draw(a, 'churn', 4))
    expect(draw(a, 'churn')).to.not.deep.equal(draw(a, 'workload'))
    expect(draw(a, 'churn')).to.not.deep.equal(draw(c, 'churn'))
  })

  it('NodeTimers fires each node once at its latest setting, in (time, node) order, against a sorted reference', () => {
    const streams = new RngStreams(7)
    const rng = streams.stream('timers')
    const n = 500
    const timers = new NodeTimers(n)
    const ref = new Map<number, number>()
    for (let i = 0; i < 20_000; i++) {
      const node = rng.int(n)
      const r = rng.float()
      if (r < 0.1) { timers.clear(node); ref.delete(node) } else { const t = Math.floor(r * 1000); timers.set(node, t); ref.set(node, t) }
    }
    const expected = [...ref].sort((a, b) => a[1] - b[1] || a[0] - b[0]).map(([node]) => node)
    const fired: number[] = []
    while (timers.size > 0) fired.push(timers.popMin())
    expect(fired).to.deep.equal(expected)
  })

  it('a timer moved later fires only at its new time, and queued events go first at equal times', () => {
    const sim = new Simulator()
    const timers = new NodeTimers(4)
    const log: string[] = []
    const k = sim.registerKind('e', (node, _arg, now) => { log.push(`event ${node}@${now}`) })
    sim.attachTimers(timers, (node, now) => { log.push(`timer ${node}@${now}`) })
    timers.set(1, 100)
    timers.set(1, 300) // a reply came: the 100 ms deadline no longer matters
    timers.set(2, 200)
    sim.schedule(200, k, 0, 0)
    expect(sim.run(1000)).to.equal(3)
    expect(log).to.deep.equal(['event 0@200', 'timer 2@200', 'timer 1@300'])
  })
})
