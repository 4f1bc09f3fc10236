import { expect } from 'chai'
import { RngStreams } from '../../sim/engine/rng.js'
import { CHURN_PRESETS, stationaryOnlineFraction } from '../../sim/models/churn.js'
import { type Law, mean, median, sample } from '../../sim/models/distributions.js'
import { nextFlashArrivalMs, ZipfSampler } from '../../sim/models/workload.js'

function empiricalMedian (law: Law, n: number, seed: number): number {
  const rng = new RngStreams(seed).stream('median-test')
  const v = new Float64Array(n)
  for (let i = 0; i < n; i++) v[i] = sample(law, rng)
  v.sort()
  return v[n >> 1]
}

describe('sim/models', () => {
  const N = 200_000
  it('draws exponential sessions with median mean·ln 2', () => {
    const law: Law = { law: 'exponential', mean: 3600 }
    expect(median(law)).to.be.closeTo(3600 * Math.LN2, 1e-9)
    expect(empiricalMedian(law, N, 1) / median(law)).to.be.closeTo(1, 0.01)
  })

  it('draws Weibull sessions with median λ(ln 2)^(1/k)', () => {
    const law: Law = { law: 'weibull', shape: 0.5, scale: 5000 }
    expect(median(law)).to.be.closeTo(5000 * Math.pow(Math.LN2, 2), 1e-9)
    expect(empiricalMedian(law, N, 2) / median(law)).to.be.closeTo(1, 0.02)
  })

  it('draws Pareto off-times with median x_m·2^(1/α)', () => {
    const law: Law = { law: 'pareto', shape: 1.5, min: 60 }
    expect(median(law)).to.be.closeTo(60 * Math.pow(2, 1 / 1.5), 1e-9)
    expect(empiricalMedian(law, N, 3) / median(law)).to.be.closeTo(1, 0.01)
  })

  it('gives the KAD preset a mean session of 10,000 s (Steiner et al. 2007)', () => {
    expect(mean(CHURN_PRESETS.kad.sessionS)).to.be.closeTo(10000, 1e-6)
    expect(stationaryOnlineFraction(CHURN_PRESETS.kad)).to.be.closeTo(1 / 3, 1e-9)
    expect(stationaryOnlineFraction(CHURN_PRESETS.none)).to.equal(1)
  })

  it('samples Zipf ranks with frequencies ∝ 1/r^s', () => {
    const z = new ZipfSampler(100, 1)
    const rng = new RngStreams(4).stream('zipf')
    const counts = new Float64Array(101)
    for (let i = 0; i < N; i++) counts[z.sample(rng)]++
    const h = Array.from({ length: 100 }, (_, i) => 1 / (i + 1)).reduce((a, b) => a + b)
    expect(z.probability(1)).to.be.closeTo(1 / h, 1e-12)
    for (const r of [1, 2, 10]) expect(counts[r] / N).to.be.closeTo(1 / r / h, 0.005)
    expect(counts[1] / counts[2]).to.be.closeTo(2, 0.1)
  })

  it('brings peak·τ flash-crowd requests in expectation, front-loaded', () => {
    const rng = new RngStreams(5).stream('flash')
    let total = 0; let firstTau = 0
    for (let run = 0; run < 200; run++) {
      let t = 0
      for (;;) {
        t = nextFlashArrivalMs(t, 2, 100, rng)
        if (!Number.isFinite(t)) break
        total++
        if (t < 100_000) firstTau++
      }
    }
    expect(total / 200).to.be.closeTo(200, 6)
    expect(firstTau / total).to.be.closeTo(1 - Math.exp(-1), 0.02)
  })
})
