import { expect } from 'chai'
import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { sendRange, type SendRangeInit, type SendRangeResult } from '../../src/http/send-range.js'

/** A bare server whose every request is answered by sendRange with `init()`; results are collected. */
async function serve (init: () => SendRangeInit): Promise<{ url: string, results: Promise<SendRangeResult>[], server: Server }> {
  const results: Promise<SendRangeResult>[] = []
  const server = createServer((req, res) => { results.push(sendRange(req, res, init())) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, results, server }
}

async function stop (server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise(resolve => server.close(resolve))
}

async function get (url: string, headers: Record<string, string> = {}): Promise<{ res: IncomingMessage, body: Promise<Buffer> }> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false })
    req.once('response', res => {
      const body = new Promise<Buffer>((resolveBody, rejectBody) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.once('end', () => resolveBody(Buffer.concat(chunks)))
        res.once('error', rejectBody)
        res.once('aborted', () => rejectBody(new Error('aborted')))
      })
      body.catch(() => {})
      resolve({ res, body })
    })
    req.once('error', reject)
    req.end()
  })
}

const DATA = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz')

describe('http/send-range', function () {
  this.timeout(10_000)

  it('asks the source for exactly the chosen range and reports the bytes sent', async () => {
    const asked: Array<[number, number]> = []
    const sent: number[] = []
    const { url, results, server } = await serve(() => ({
      lengthBytes: DATA.length,
      mediaType: 'text/plain',
      etag: '"x"',
      openStream: (start, end) => { asked.push([start, end]); return Readable.from([DATA.subarray(start, end + 1)]) },
      onBytesSent: n => { sent.push(n) }
    }))
    try {
      const { res, body } = await get(url, { range: 'bytes=10-15' })
      expect(res.statusCode).to.equal(206)
      expect((await body).toString()).to.equal('abcdef')
      const result = await results[0]
      expect(asked).to.deep.equal([[10, 15]])
      expect(result).to.include({ status: 206, bytesSent: 6, completed: true })
      expect(sent.reduce((a, b) => a + b, 0)).to.equal(6)
    } finally {
      await stop(server)
    }
  })

  it('reports the status before the body, so a response counter is current once the client has read it', async () => {
    const statuses: number[] = []
    const source = new Readable({ read () {} })
    const { url, results, server } = await serve(() => ({
      lengthBytes: DATA.length,
      mediaType: 'text/plain',
      openStream: () => source,
      onStatus: status => { statuses.push(status) }
    }))
    try {
      // Node sends the head with the first body bytes; the rest is held back, so the response is not over.
      source.push(DATA.subarray(0, 10))
      const { res, body } = await get(url)
      expect(res.statusCode).to.equal(200)
      expect(statuses).to.deep.equal([200])
      source.push(DATA.subarray(10))
      source.push(null)
      expect((await body).length).to.equal(DATA.length)
      expect((await results[0]).status).to.equal(200)
      expect(statuses).to.deep.equal([200])
    } finally {
      await stop(server)
    }
  })

  it('does not open the source for HEAD, 304 or 416', async () => {
    let opened = 0
    const reported: number[] = []
    const { url, results, server } = await serve(() => ({
      lengthBytes: DATA.length,
      mediaType: 'text/plain',
      etag: '"x"',
      openStream: () => { opened++; return Readable.from([DATA]) },
      onStatus: status => { reported.push(status) }
    }))
    try {
      await new Promise<void>((resolve, reject) => {
        request(url, { method: 'HEAD', agent: false }, res => { res.resume(); res.once('end', resolve) }).once('error', reject).end()
      })
      expect((await get(url, { 'if-none-match': '"x"' })).res.statusCode).to.equal(304)
      expect((await get(url, { range: 'bytes=99-' })).res.statusCode).to.equal(416)
      const statuses = (await Promise.all(results)).map(r => r.status)
      expect(statuses).to.deep.equal([200, 304, 416])
      expect(reported).to.deep.equal([200, 304, 416])
      expect(opened).to.equal(0)
    } finally {
      await stop(server)
    }
  })

  it('aborts a waiting source and destroys it when the client leaves', async () => {
    let signalSeen: AbortSignal | undefined
    let destroyed = false
    const { url, results, server } = await serve(() => ({
      lengthBytes: 1000,
      mediaType: 'application/octet-stream',
      openStream: (_start, _end, signal) => {
        signalSeen = signal
        // like the streaming gateway: first bytes now, the rest never (still downloading)
        const src = new Readable({ read () {} })
        src.push(Buffer.alloc(10))
        src.once('close', () => { destroyed = true })
        return src
      }
    }))
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        request(url, { agent: false }, resolve).once('error', reject).end()
      })
      expect(res.statusCode).to.equal(200)
      await new Promise(resolve => res.once('data', resolve))
      res.destroy()
      const result = await results[0]
      expect(result.completed).to.equal(false)
      expect(result.bytesSent).to.equal(10)
      expect(signalSeen?.aborted).to.equal(true)
      expect(destroyed).to.equal(true)
    } finally {
      await stop(server)
    }
  })

  it('cuts the response when the source ends short, so the client cannot take it for the whole', async () => {
    const { url, results, server } = await serve(() => ({
      lengthBytes: DATA.length,
      mediaType: 'text/plain',
      openStream: (start) => Readable.from([DATA.subarray(start, start + 5)])
    }))
    try {
      const { res, body } = await get(url)
      expect(res.statusCode).to.equal(200)
      let failed = false
      try { await body } catch { failed = true }
      expect(failed).to.equal(true)
      const result = await results[0]
      expect(result.completed).to.equal(false)
      expect(result.error?.name).to.equal('RangeSourceLengthError')
    } finally {
      await stop(server)
    }
  })

  it('refuses a source that runs long', async () => {
    const { url, results, server } = await serve(() => ({
      lengthBytes: 5,
      mediaType: 'text/plain',
      openStream: () => Readable.from([DATA])
    }))
    try {
      // the error comes before any body byte, so the client sees a reset (before or after the headers)
      let failed = false
      try { await (await get(url)).body } catch { failed = true }
      expect(failed).to.equal(true)
      expect((await results[0]).error?.name).to.equal('RangeSourceLengthError')
    } finally {
      await stop(server)
    }
  })

  it('answers 500 when the source cannot be opened', async () => {
    const { url, results, server } = await serve(() => ({
      lengthBytes: DATA.length,
      mediaType: 'text/plain',
      openStream: async () => { throw new Error('disk on fire') }
    }))
    try {
      const { res, body } = await get(url)
      expect(res.statusCode).to.equal(500)
      expect((await body).toString()).to.equal('cannot read this item\n')
      expect((await results[0]).error?.message).to.equal('disk on fire')
    } finally {
      await stop(server)
    }
  })

  it('takes an async iterable as the source', async () => {
    const { url, server } = await serve(() => ({
      lengthBytes: DATA.length,
      mediaType: 'text/plain',
      openStream: async function * (start, end) { yield DATA.subarray(start, start + 2); yield DATA.subarray(start + 2, end + 1) }
    }))
    try {
      const { res, body } = await get(url, { range: 'bytes=-4' })
      expect(res.statusCode).to.equal(206)
      expect(res.headers['content-range']).to.equal(`bytes 32-35/${DATA.length}`)
      expect((await body).toString()).to.equal('wxyz')
    } finally {
      await stop(server)
    }
  })
})
