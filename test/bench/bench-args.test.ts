import { expect } from 'chai'
import { BenchArgsError, parseBenchArgs } from '../../bench/bench-args.js'

describe('bench/bench-args', () => {
  const init = { usage: 'usage', numbers: { 'budget-s': 600 }, lists: { peers: [10_000] }, flags: ['skip-baseline'] }

  it('fills defaults and reads numbers, lists and flags', () => {
    expect(parseBenchArgs(init, [])).to.deep.equal({ numbers: { 'budget-s': 600 }, lists: { peers: [10_000] }, flags: { 'skip-baseline': false }, help: false })
    const p = parseBenchArgs(init, ['--peers', '100,2000', '--budget-s', '30', '--skip-baseline'])
    expect(p.lists.peers).to.deep.equal([100, 2000])
    expect(p.numbers['budget-s']).to.equal(30)
    expect(p.flags['skip-baseline']).to.equal(true)
    expect(parseBenchArgs(init, ['--help']).help).to.equal(true)
  })

  it('refuses a mistyped option and a value that is not a positive number', () => {
    expect(() => parseBenchArgs(init, ['--peer', '5'])).to.throw(BenchArgsError, /peer/)
    expect(() => parseBenchArgs(init, ['--budget-s', 'x'])).to.throw(BenchArgsError, /--budget-s: expected a positive number, got "x"/)
    expect(() => parseBenchArgs(init, ['--peers', '100,0'])).to.throw(BenchArgsError, /--peers/)
    expect(() => parseBenchArgs(init, ['--budget-s'])).to.throw(BenchArgsError)
  })
})
