import { expect } from 'chai'
import { ArrayBufferGc, type GcFunction } from '../../src/client/array-buffer-gc.js'

const MiB = 1024 * 1024

describe('client/array-buffer-gc', () => {
  it('asks for one background full GC when over the bound, none while it runs, and again once it finished', async () => {
    let bytes = 10 * MiB
    const calls: unknown[] = []
    let finish!: () => void
    const gc: GcFunction = (options) => { calls.push(options); return new Promise<void>(resolve => { finish = resolve }) }
    const guard = new ArrayBufferGc({ thresholdBytes: 40 * MiB, gc, arrayBufferBytes: () => bytes })
    expect(guard.check()).to.equal(false)
    bytes = 41 * MiB
    expect(guard.check()).to.equal(true)
    expect(calls).to.deep.equal([{ type: 'major', execution: 'async' }])
    expect(guard.check()).to.equal(false)
    finish()
    await Promise.resolve()
    expect(guard.check()).to.equal(true)
    expect(calls).to.have.length(2)
  })

  it('does nothing without a gc function (a node without --expose-gc)', () => {
    const guard = new ArrayBufferGc({ thresholdBytes: 1, arrayBufferBytes: () => 100 * MiB, gc: undefined })
    // globalThis.gc is there only under --expose-gc, which mocha's node does not have here.
    expect(guard.check()).to.equal((globalThis as { gc?: unknown }).gc != null)
  })

  it('rejects a bound that is not positive', () => {
    expect(() => new ArrayBufferGc({ thresholdBytes: 0 })).to.throw(RangeError)
  })
})
