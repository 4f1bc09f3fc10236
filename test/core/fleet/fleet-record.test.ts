import { expect } from 'chai'
import { generateKeyPairSync } from 'node:crypto'
import { buildFleetRecord, compareFleetRecords, fleetLookupId, openFleetRecord } from '../../../src/core/fleet/fleet-record.js'
import { FleetRecordSignatureError, ForeignFleetRecordError, MalformedFleetRecordError, StaleFleetRecordError } from '../../../src/core/fleet/fleet-errors.js'
import { rawPublicKey } from '../../../src/core/content/publisher-signature.js'
import { parseContentId } from '../../../src/core/content/content-id.js'

const A = '12D3KooWAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
const B = '12D3KooWBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'
const seeders = [{ peerId: A, multiaddrs: ['/ip4/127.1.0.1/tcp/4001'] }, { peerId: B, multiaddrs: ['/ip4/127.2.0.1/tcp/4001'] }]

describe('core/fleet: the signed fleet record', () => {
  const { privateKey } = generateKeyPairSync('ed25519')
  const other = generateKeyPairSync('ed25519').privateKey
  const key = rawPublicKey(privateKey)

  it('round-trips through its signed bytes and names the publisher key', () => {
    const r = buildFleetRecord({ sequence: 3, seeders }, privateKey)
    const back = openFleetRecord(r.signedBytes, key)
    expect(back.sequence).to.equal(3)
    expect(back.seeders).to.deep.equal(seeders)
    expect(Buffer.from(back.publisherKey).equals(Buffer.from(key))).to.equal(true)
  })

  it('refuses a record whose body was changed after signing', () => {
    const r = buildFleetRecord({ sequence: 3, seeders }, privateKey)
    const doc = JSON.parse(new TextDecoder().decode(r.signedBytes)) as { record: string }
    const body = JSON.parse(Buffer.from(doc.record, 'base64').toString()) as { sequence: number }
    body.sequence = 99
    doc.record = Buffer.from(JSON.stringify(body)).toString('base64')
    expect(() => openFleetRecord(new TextEncoder().encode(JSON.stringify(doc)))).to.throw(FleetRecordSignatureError)
  })

  it('refuses a foreign record when a publisher key is trusted', () => {
    const foreign = buildFleetRecord({ sequence: 10, seeders }, other)
    expect(() => openFleetRecord(foreign.signedBytes, key)).to.throw(ForeignFleetRecordError)
    expect(() => compareFleetRecords(buildFleetRecord({ sequence: 1, seeders }, privateKey), foreign)).to.throw(ForeignFleetRecordError)
  })

  it('accepts only a higher sequence: older and same-number-other-content records are stale', () => {
    const v2 = buildFleetRecord({ sequence: 2, seeders }, privateKey)
    expect(compareFleetRecords(undefined, v2)).to.equal('newer')
    expect(compareFleetRecords(v2, buildFleetRecord({ sequence: 3, seeders: seeders.slice(0, 1) }, privateKey))).to.equal('newer')
    expect(compareFleetRecords(v2, buildFleetRecord({ sequence: 2, seeders }, privateKey))).to.equal('unchanged')
    expect(() => compareFleetRecords(v2, buildFleetRecord({ sequence: 1, seeders }, privateKey))).to.throw(StaleFleetRecordError)
    expect(() => compareFleetRecords(v2, buildFleetRecord({ sequence: 2, seeders: seeders.slice(1) }, privateKey))).to.throw(StaleFleetRecordError)
  })

  it('rejects malformed documents and fields with a typed error', () => {
    const bad = (text: string): unknown => { try { openFleetRecord(new TextEncoder().encode(text)) } catch (err) { return err } }
    expect(bad('not json')).to.be.instanceOf(MalformedFleetRecordError)
    expect(bad('{"format":"other"}')).to.be.instanceOf(MalformedFleetRecordError)
    expect(bad('x'.repeat(70_000))).to.be.instanceOf(MalformedFleetRecordError)
    expect(() => buildFleetRecord({ sequence: 1, seeders: [seeders[0], seeders[0]] }, privateKey)).to.throw(MalformedFleetRecordError, /twice/)
    expect(() => buildFleetRecord({ sequence: 1, seeders: [{ peerId: A, multiaddrs: ['/ip4/1.2.3.4/tcp/1/p2p/' + A] }] }, privateKey)).to.throw(MalformedFleetRecordError)
    expect(() => buildFleetRecord({ sequence: -1, seeders }, privateKey)).to.throw(MalformedFleetRecordError)
    expect(() => buildFleetRecord({ sequence: 1, seeders: [] }, privateKey)).to.throw(MalformedFleetRecordError)
  })

  it('derives one overlay lookup id per publisher, a valid content id', () => {
    const id = fleetLookupId(key)
    expect(parseContentId(id)).to.equal(id)
    expect(fleetLookupId(key)).to.equal(id)
    expect(fleetLookupId(rawPublicKey(other))).to.not.equal(id)
  })
})
