import { expect } from 'chai'
import { Bitfield } from '../../../src/core/swarm/bitfield.js'
import { DownloadSession, type SessionEffect } from '../../../src/core/swarm/download-session.js'

function bits (length: number, indices: number[]): Bitfield {
  const b = new Bitfield(length)
  for (const i of indices) b.set(i)
  return b
}
const requests = (effects: SessionEffect[]): Array<[string, number]> =>
  effects.filter(e => e.type === 'request').map(e => [e.sourceId, e.index])

/** Delivers and verifies every outstanding request, returning how many pieces arrived. */
function serveAll (s: DownloadSession, nowMs: number): number {
  let n = 0
  for (const [src, i] of requests(s.nextRequests(nowMs))) {
    if (s.onPieceReceived(src, i)) { s.onPieceVerified(src, i, nowMs); n++ }
  }
  return n
}

describe('core/swarm/download-session', () => {
  it('does not ask a source for a piece it declined until declineBackoffMs, and takes it from a peer that announces it', () => {
    const s = new DownloadSession(2, { maxRequestsPerSource: 1, declineBackoffMs: 1_000 })
    s.addSource('o', Bitfield.full(2), { isOrigin: true })
    expect(requests(s.nextRequests(0))).to.deep.equal([['o', 0]])
    s.onRequestDeclined('o', 0, 0)
    // The origin still holds piece 0 (not a rejection), but is not asked for it during the back-off.
    expect(requests(s.nextRequests(10))).to.deep.equal([['o', 1]])
    s.onPieceReceived('o', 1); s.onPieceVerified('o', 1, 20)
    expect(requests(s.nextRequests(500))).to.deep.equal([])
    s.addSource('p', new Bitfield(2))
    s.have('p', 0, 600)
    expect(requests(s.nextRequests(600))).to.deep.equal([['p', 0]])
    // Without a peer, the origin is asked again once the back-off is over.
    const t = new DownloadSession(1, { declineBackoffMs: 1_000 })
    t.addSource('o', Bitfield.full(1), { isOrigin: true })
    t.nextRequests(0)
    t.onRequestDeclined('o', 0, 0)
    expect(requests(t.nextRequests(999))).to.deep.equal([])
    expect(requests(t.nextRequests(1_000))).to.deep.equal([['o', 0]])
  })

  it('pipelines up to maxRequestsPerSource to a single source, in index order by default', () => {
    const s = new DownloadSession(20, { maxRequestsPerSource: 4 })
    s.addSource('o', Bitfield.full(20), { isOrigin: true })
    expect(requests(s.nextRequests(0))).to.deep.equal([['o', 0], ['o', 1], ['o', 2], ['o', 3]])
    expect(s.nextRequests(1)).to.deep.equal([])
    expect(s.onPieceReceived('o', 0)).to.equal(true)
    expect(requests(s.nextRequests(2))).to.deep.equal([['o', 4]])
  })

  it('never requests a piece twice outside endgame, even while it is being verified', () => {
    const s = new DownloadSession(10, { maxRequestsPerSource: 3 })
    s.addSource('a', Bitfield.full(10))
    s.addSource('b', Bitfield.full(10))
    const first = requests(s.nextRequests(0))
    expect(new Set(first.map(r => r[1])).size).to.equal(first.length)
    s.onPieceReceived(first[0][0], first[0][1])
    const second = requests(s.nextRequests(1))
    expect(second.map(r => r[1])).to.not.include(first[0][1])
  })

  it('completes a download from one origin', () => {
    const s = new DownloadSession(50, { maxRequestsPerSource: 8 })
    s.addSource('o', Bitfield.full(50), { isOrigin: true })
    let total = 0
    for (let t = 0; t < 100 && !s.isComplete; t++) total += serveAll(s, t)
    expect(s.isComplete).to.equal(true)
    expect(total).to.equal(50)
  })

  it('picks the rarest piece first among peers', () => {
    const s = new DownloadSession(4, { maxRequestsPerSource: 1 })
    s.addSource('a', bits(4, [0, 1, 2, 3]))
    s.addSource('b', bits(4, [0, 1, 3]))
    s.addSource('c', bits(4, [0, 3]))
    // availability: 0 -> 3, 1 -> 2, 2 -> 1, 3 -> 3: piece 2 (only a) first, then 1.
    const r = requests(s.nextRequests(0))
    expect(r).to.deep.include(['a', 2])
    expect(r).to.deep.include(['b', 1])
  })

  it('spares the origin for pieces a peer has and uses it for pieces no peer has', () => {
    const s = new DownloadSession(6, { maxRequestsPerSource: 8 })
    s.addSource('o', Bitfield.full(6), { isOrigin: true })
    s.addSource('p', bits(6, [0, 1, 2]))
    const r = requests(s.nextRequests(0))
    expect(r.filter(([src]) => src === 'o').map(x => x[1]).sort()).to.deep.equal([3, 4, 5])
    expect(r.filter(([src]) => src === 'p').map(x => x[1]).sort()).to.deep.equal([0, 1, 2])
  })

  it('serves the priority range first, in order, before rarest-first', () => {
    const s = new DownloadSession(100, { maxRequestsPerSource: 3 })
    s.addSource('p', Bitfield.full(100))
    s.setPriorityRange(40, 43)
    expect(requests(s.nextRequests(0)).map(r => r[1])).to.deep.equal([40, 41, 42])
  })

  it('bans a source whose piece fails verification and re-requests the piece elsewhere', () => {
    const s = new DownloadSession(2, { maxRequestsPerSource: 1 })
    s.addSource('bad', bits(2, [0]))
    s.addSource('good', bits(2, [0, 1]))
    const r = requests(s.nextRequests(0))
    expect(r).to.deep.include(['bad', 0])
    expect(s.onPieceReceived('bad', 0)).to.equal(true)
    const eff = s.onPieceFailed('bad', 0, 1)
    expect(eff).to.deep.equal([{ type: 'ban', sourceId: 'bad', index: 0, reason: 'piece 0 failed verification' }])
    expect(s.isBanned('bad')).to.equal(true)
    expect(s.addSource('bad', bits(2, [0]))).to.equal(false)
    s.onPieceReceived('good', 1); s.onPieceVerified('good', 1, 2)
    expect(requests(s.nextRequests(3))).to.deep.equal([['good', 0]])
  })

  it('cancels requests after the timeout and gives the piece to another source', () => {
    const s = new DownloadSession(1, { requestTimeoutMs: 1000 })
    s.addSource('slow', Bitfield.full(1))
    expect(requests(s.nextRequests(0))).to.deep.equal([['slow', 0]])
    expect(s.nextTimeoutMs()).to.equal(1000)
    expect(s.onRequestTimeout(999)).to.deep.equal([])
    s.addSource('fast', Bitfield.full(1))
    expect(s.onRequestTimeout(1000)).to.deep.equal([{ type: 'cancel', sourceId: 'slow', index: 0 }])
    expect(requests(s.nextRequests(1000))).to.deep.equal([['fast', 0]])
  })

  it('lets the origin take a piece a slow peer timed out on', () => {
    const s = new DownloadSession(1, { requestTimeoutMs: 10 })
    s.addSource('peer', Bitfield.full(1))
    s.addSource('o', Bitfield.full(1), { isOrigin: true })
    expect(requests(s.nextRequests(0))).to.deep.equal([['peer', 0]])
    s.onRequestTimeout(10)
    expect(requests(s.nextRequests(10))).to.deep.equal([['o', 0]])
  })

  it('duplicates the last requests in endgame and cancels the loser when one copy verifies', () => {
    const s = new DownloadSession(2, { maxRequestsPerSource: 1 })
    s.addSource('a', Bitfield.full(2))
    s.addSource('b', Bitfield.full(2))
    // Both pieces go out, one to each source; then b finishes and a piece stays outstanding at a.
    const r = requests(s.nextRequests(0))
    expect(r.length).to.equal(2)
    const atB = r.find(x => x[0] === 'b')![1]
    const atA = r.find(x => x[0] === 'a')![1]
    s.onPieceReceived('b', atB); s.onPieceVerified('b', atB, 1)
    // a's only request is the one it is sending: a copy would most likely arrive twice, until it has waited endgameHeadWaitMs (2 s).
    expect(requests(s.nextRequests(1))).to.deep.equal([])
    expect(s.stats().endgame).to.equal(true)
    expect(requests(s.nextRequests(2_000))).to.deep.equal([['b', atA]])
    s.onPieceReceived('b', atA)
    expect(s.onPieceVerified('b', atA, 2_001)).to.deep.equal([{ type: 'cancel', sourceId: 'a', index: atA }])
    expect(s.isComplete).to.equal(true)
    expect(s.stats().requestsInFlight).to.equal(0)
  })

  it('duplicates in endgame one queued request at a time to an idle peer, newest first, and the one on the wire only after endgameHeadWaitMs', () => {
    const s = new DownloadSession(6, { maxRequestsPerSource: 4 })
    s.addSource('a', Bitfield.full(6))
    s.addSource('b', bits(6, [4, 5]))
    // a takes four pieces in order 0..3 (b holds only 4 and 5 and takes those); b then delivers both and is idle.
    const first = requests(s.nextRequests(0))
    expect(first.filter(r => r[0] === 'a').map(r => r[1])).to.deep.equal([0, 1, 2, 3])
    for (const i of [4, 5]) { s.onPieceReceived('b', i); s.onPieceVerified('b', i, 10) }
    // b announces it has everything now; endgame: idle b copies one of a's queued requests, the newest.
    for (const i of [0, 1, 2, 3]) s.have('b', i, 20)
    expect(requests(s.nextRequests(20))).to.deep.equal([['b', 3]])
    expect(s.stats().endgame).to.equal(true)
    // b is busy with it: no second copy meanwhile.
    expect(requests(s.nextRequests(30))).to.deep.equal([])
    // b delivers; a's copy is cancelled before it is sent; b takes the next newest, never 0 (a is sending it).
    s.onPieceReceived('b', 3)
    expect(s.onPieceVerified('b', 3, 40)).to.deep.equal([{ type: 'cancel', sourceId: 'a', index: 3 }])
    expect(requests(s.nextRequests(40))).to.deep.equal([['b', 2]])
    s.onPieceReceived('b', 2); s.onPieceVerified('b', 2, 50)
    expect(requests(s.nextRequests(50))).to.deep.equal([['b', 1]])
    s.onPieceReceived('b', 1); s.onPieceVerified('b', 1, 60)
    expect(requests(s.nextRequests(60))).to.deep.equal([])
    // a's piece 0 has been on the wire for 2 s: a slow link, b copies it.
    expect(requests(s.nextRequests(2_000))).to.deep.equal([['b', 0]])
  })

  it('resumes without requesting pieces already verified', () => {
    const s = new DownloadSession(5, { verified: bits(5, [0, 1, 3]) })
    s.addSource('o', Bitfield.full(5), { isOrigin: true })
    expect(requests(s.nextRequests(0)).map(r => r[1])).to.deep.equal([2, 4])
  })

  it('returns a source\'s requests to the pool when it leaves and respects the total limit', () => {
    const s = new DownloadSession(10, { maxRequestsPerSource: 4, maxRequestsTotal: 5 })
    s.addSource('a', Bitfield.full(10))
    s.addSource('b', Bitfield.full(10))
    expect(requests(s.nextRequests(0)).length).to.equal(5)
    s.removeSource('a')
    const r = requests(s.nextRequests(1))
    expect(r.every(([src]) => src === 'b')).to.equal(true)
    expect(s.stats().requestsInFlight).to.be.at.most(5)
  })

  it('uses a peer with room for pieces only it has while another peer is full', () => {
    const s = new DownloadSession(4, { maxRequestsPerSource: 1 })
    s.addSource('a', bits(4, [0, 1]))
    s.addSource('b', bits(4, [3]))
    const r = requests(s.nextRequests(0))
    expect(r).to.deep.include(['b', 3])
  })

  it('forgets a piece a source rejected and tries another source', () => {
    const s = new DownloadSession(1)
    s.addSource('a', Bitfield.full(1))
    s.nextRequests(0)
    s.onRequestRejected('a', 0)
    expect(s.nextRequests(1)).to.deep.equal([])
    s.addSource('b', Bitfield.full(1))
    expect(requests(s.nextRequests(2))).to.deep.equal([['b', 0]])
  })

  it('spreads equal-availability picks by the injected random order', () => {
    let x = 7
    const random = (): number => { x = (x * 48271) % 2147483647; return x / 2147483647 }
    const s = new DownloadSession(64, { maxRequestsPerSource: 4, random })
    s.addSource('p', Bitfield.full(64))
    const r = requests(s.nextRequests(0)).map(e => e[1])
    expect(r).to.not.deep.equal([0, 1, 2, 3])
    expect(new Set(r).size).to.equal(4)
  })

  it('asks at most maxFarSources far peers while a near source exists, and every far peer without one', () => {
    const s = new DownloadSession(40, { maxRequestsPerSource: 2, maxFarSources: 1 })
    s.addSource('near', bits(40, [0]), { preference: 0.1 })
    for (const f of ['f1', 'f2', 'f3']) s.addSource(f, Bitfield.full(40), { preference: f === 'f1' ? 1.1 : 1.5 })
    const used = new Set(requests(s.nextRequests(0)).map(r => r[0]))
    expect([...used].sort()).to.deep.equal(['f1', 'near'])
    // The allowed far peer chokes: the next best far peer takes over.
    s.choke('f1')
    const next = new Set(requests(s.nextRequests(1)).map(r => r[0]))
    expect(next.has('f1')).to.equal(false)
    expect([...next].filter(id => id.startsWith('f'))).to.have.length(1)
    // Without near sources (proximity off) every far peer is used.
    const off = new DownloadSession(40, { maxRequestsPerSource: 2, maxFarSources: 1 })
    for (const f of ['f1', 'f2', 'f3']) off.addSource(f, Bitfield.full(40), { preference: 1.2 })
    expect(new Set(requests(off.nextRequests(0)).map(r => r[0])).size).to.equal(3)
  })

  it('still asks a disallowed far peer for a piece only it holds', () => {
    const s = new DownloadSession(4, { maxRequestsPerSource: 4, maxFarSources: 1 })
    s.addSource('near', bits(4, [0]), { preference: 0 })
    s.addSource('f1', bits(4, [1]), { preference: 1.1 })
    s.addSource('f2', bits(4, [2]), { preference: 1.5 })
    const r = requests(s.nextRequests(0))
    expect(r).to.deep.include(['f2', 2])
    expect(r).to.deep.include(['f1', 1])
  })

  it('leaves a piece no near source holds to the near source whose stripe it is, until that source stalls', () => {
    const n = 64
    const mk = (): DownloadSession => {
      const s = new DownloadSession(n, { maxRequestsPerSource: n, stripeKey: 'me', stripeIdleMs: 5_000 })
      s.addSource('nearA', new Bitfield(n), { preference: 0, stripeKey: 'A' })
      s.addSource('far', Bitfield.full(n), { preference: 1.5 })
      return s
    }
    const s = mk()
    const mine = requests(s.nextRequests(0)).map(r => r[1])
    // Roughly half the pieces are ours (rendezvous hashing over me and A); the rest wait for A.
    expect(mine.length).to.be.within(16, 48)
    // A, seeing us as its near source, takes exactly the other half: the stripes partition the item.
    const a = new DownloadSession(n, { maxRequestsPerSource: n, stripeKey: 'A' })
    a.addSource('nearMe', new Bitfield(n), { preference: 0, stripeKey: 'me' })
    a.addSource('far', Bitfield.full(n), { preference: 1.5 })
    const theirs = requests(a.nextRequests(0)).map(r => r[1])
    expect([...mine, ...theirs].sort((x, y) => x - y)).to.deep.equal([...Array(n).keys()])
    // A announces a piece of its stripe: we fetch it from A, not from far.
    const ownedByA = theirs[0]
    s.have('nearA', ownedByA, 1_000)
    expect(requests(s.nextRequests(1_000))).to.deep.equal([['nearA', ownedByA]])
    // A goes quiet for stripeIdleMs: its stripe falls back to us.
    const late = requests(s.nextRequests(6_001))
    expect(late.length).to.equal(n - mine.length - 1)
    expect(late.every(([src]) => src === 'far')).to.equal(true)
  })

  it('serves the long tail from the origin at full speed when no peers exist, with every locality rule on', () => {
    const s = new DownloadSession(64, { maxRequestsPerSource: 16, maxFarSources: 1, stripeKey: 'me' })
    s.addSource('o', Bitfield.full(64), { isOrigin: true })
    let total = serveAll(s, 0)
    // A full pipeline at once: nothing waits for peers that do not exist.
    expect(total).to.equal(16)
    for (let t = 1; t < 20 && !s.isComplete; t++) total += serveAll(s, t)
    expect(s.isComplete).to.equal(true)
    expect(total).to.equal(64)
  })

  describe('givesUp (the one give-up verdict both shells ask)', () => {
    it('gives up with no source in the session only when none is connecting, and never once complete', () => {
      const s = new DownloadSession(2)
      expect(s.givesUp(0, { connecting: 1 })).to.equal(false)
      expect(s.givesUp(0, { connecting: 0 })).to.equal(true)
      const done = new DownloadSession(1, { verified: bits(1, [0]) })
      expect(done.givesUp(0, { connecting: 0 })).to.equal(false)
    })

    it('waits while a request is in flight, then while the source that took it chokes us, and gives up when it leaves', () => {
      const s = new DownloadSession(2, { partialSourceWaitMs: 0 })
      s.addSource('o', Bitfield.full(2), { isOrigin: true })
      expect(requests(s.nextRequests(0))).to.have.length(2)
      expect(s.givesUp(0, { connecting: 0 })).to.equal(false)
      s.choke('o')
      expect(s.nextRequests(10)).to.deep.equal([])
      expect(s.givesUp(10, { connecting: 0 })).to.equal(false)
      s.removeSource('o')
      expect(s.givesUp(20, { connecting: 0 })).to.equal(true)
    })

    it('waits on a declined piece\'s back-off, and gives up after it once the source rejects the piece', () => {
      const s = new DownloadSession(1, { partialSourceWaitMs: 0, declineBackoffMs: 1_000 })
      s.addSource('o', Bitfield.full(1), { isOrigin: true })
      expect(requests(s.nextRequests(0))).to.deep.equal([['o', 0]])
      s.onRequestDeclined('o', 0, 0)
      expect(s.nextRequests(10)).to.deep.equal([])
      expect(s.givesUp(10, { connecting: 0 })).to.equal(false)
      expect(requests(s.nextRequests(1_000))).to.deep.equal([['o', 0]])
      s.onRequestRejected('o', 0)
      expect(s.nextRequests(1_010)).to.deep.equal([])
      expect(s.givesUp(1_010, { connecting: 0 })).to.equal(true)
    })

    it('waits partialSourceWaitMs for a source without the whole item to announce more, counted from its last piece', () => {
      const s = new DownloadSession(2, { partialSourceWaitMs: 60_000 })
      s.addSource('p', bits(2, [0]))
      expect(requests(s.nextRequests(0))).to.deep.equal([['p', 0]])
      expect(s.onPieceReceived('p', 0)).to.equal(true)
      s.onPieceVerified('p', 0, 5_000)
      expect(s.nextRequests(5_000)).to.deep.equal([])
      expect(s.givesUp(64_999, { connecting: 0 })).to.equal(false)
      expect(s.givesUp(65_000, { connecting: 0 })).to.equal(true)
      // An announcement restarts the wait, and the piece it names is asked for.
      s.have('p', 1, 65_000)
      expect(requests(s.nextRequests(65_000))).to.deep.equal([['p', 1]])
      expect(s.givesUp(65_000, { connecting: 0 })).to.equal(false)
    })

    it('does not wait for a partial source when partialSourceWaitMs is 0 (the simulator\'s model)', () => {
      const s = new DownloadSession(2, { partialSourceWaitMs: 0 })
      s.addSource('p', bits(2, [0]))
      expect(requests(s.nextRequests(0))).to.deep.equal([['p', 0]])
      s.onPieceReceived('p', 0); s.onPieceVerified('p', 0, 10)
      expect(s.nextRequests(10)).to.deep.equal([])
      expect(s.givesUp(10, { connecting: 0 })).to.equal(true)
      expect(s.givesUp(10, { connecting: 1 })).to.equal(false)
    })

    it('waits for a piece being verified', () => {
      const s = new DownloadSession(1, { partialSourceWaitMs: 0 })
      s.addSource('o', Bitfield.full(1), { isOrigin: true })
      s.nextRequests(0)
      expect(s.onPieceReceived('o', 0)).to.equal(true)
      s.removeSource('o')
      expect(s.givesUp(10, { connecting: 0 })).to.equal(false)
      s.onPieceFailed('o', 0, 10)
      expect(s.givesUp(10, { connecting: 0 })).to.equal(true)
    })
  })
})
