/**
 * The libp2p shell of the overlay peer: turns the pure OverlayPeer's
 * effects (src/core/peer) into DHT streams (DhtRpc), hang-ups and events,
 * and libp2p's inputs (frames, identify, closed connections, one timer)
 * into the peer's. It offers the API downloaders use — `findProviders`,
 * `announce`, `withdraw` — and a status. Every overlay decision (who
 * answers, which machine a reply belongs to, discovery, forwards, role
 * changes) lives in the peer; the only rules here are I/O:
 * - a request goes out on its own stream with the timeout the peer names;
 *   a response goes back on the stream its request came in on;
 * - only a member listens on the DHT protocol (a leaf's streams fail at
 *   once, as the peer's `not-a-dht-node` says);
 * - ranking places come from the prefix table (AsnResolver) over the
 *   addresses a contact carries; this peer's own place from `publicIp`,
 *   else a public identify-observed address, else its listen address.
 */
import { randomInt } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { TypedEventEmitter } from 'main-event'
import type { Connection, IdentifyResult, PeerId } from '@libp2p/interface'
import type { SwarmNode } from './swarm-node.js'
import { keyOfPeerId } from './dht-codec.js'
import { OverlayWire } from './overlay-wire.js'
import { LoadMeter } from './load-meter.js'
import { SpareUploadMeter } from '../core/tier/spare-upload.js'
import { DHT_PROTOCOL } from './protocol-ids.js'
import type { Contact } from '../core/dht/contact.js'
import { MAX_ADDRS_PER_CONTACT } from '../core/messages/dht-messages.js'
import type { Key } from '../core/ids.js'
import { keyToHex } from '../core/ids.js'
import { contentKey, parseContentId, type ContentId } from '../core/content/content-id.js'
import { AsnResolver } from '../core/proximity/asn-resolver.js'
import { LOAD_REPORT_INTERVAL_MS, MAX_HELD_ITEMS, OverlayStoppedError, type OverlayEvents, type OverlayInit, type OverlayStatus, type ProviderInfo } from './overlay-api.js'
import { contactOfMultiaddr, OverlayPlaces, stripP2p } from './overlay-contacts.js'
import type { PeerPlace } from '../core/proximity/peer-ranking.js'
import { formatIpAddress } from '../core/proximity/ip-address.js'
import { OverlayPeer, type OverlayEffect, type OverlayPeerHost, type PolicyMeasurements } from '../core/peer/overlay-peer.js'
import { resolveOverlayOptions } from '../core/peer/overlay-options.js'
import type { OverlayRole } from '../core/tier/supernode-policy.js'
import { isLoopbackRelayed } from './relay-reservations.js'
import { OverlayNat } from './overlay-nat.js'
import { setTimeoutAfterIo } from './deadline-after-io.js'

export * from './overlay-api.js'
export { contactOfMultiaddr } from './overlay-contacts.js'

function cryptoRandom (): number { return randomInt(0, 2 ** 47) / 2 ** 47 }

/** The overlay of one peer over libp2p: the shell of an OverlayPeer, and the provider API. */
export class OverlayService extends TypedEventEmitter<OverlayEvents> implements OverlayPeerHost {
  readonly peer: OverlayPeer
  private readonly wire: OverlayWire
  private readonly places: OverlayPlaces
  private readonly held = new Map<string, { key: Key, contentId: ContentId }>()
  private readonly findWaiters = new Map<number, (providers: Contact[]) => void>()
  private readonly listeners: Array<[string, (e: any) => void]> = []
  private timer: { clear: () => void } | undefined
  private timerAtMs: number | undefined
  private readonly load: LoadMeter
  private readonly spareUpload = new SpareUploadMeter()
  private running = false
  private listening: Promise<void> = Promise.resolve()
  private readonly nat: OverlayNat

  constructor (readonly node: SwarmNode, private readonly init: OverlayInit = {}) {
    super()
    const options = resolveOverlayOptions(init)
    this.places = new OverlayPlaces(init.asnResolver ?? new AsnResolver(), init.publicIp)
    const me = node.peerId.toString()
    const bootstrap = (init.bootstrap ?? []).map(contactOfMultiaddr).filter(c => c.peerId !== me)
    this.peer = new OverlayPeer(this.selfContact(), this, init.random ?? cryptoRandom, bootstrap, options)
    this.wire = new OverlayWire(node, {
      peer: this.peer,
      input: fn => { this.input(fn) },
      error: message => { this.emit('overlay:error', { message }) },
      running: () => this.running
    }, { ...init.rpc, requestTimeoutMs: options.requestTimeoutMs, inboundTimeoutMs: init.rpc?.inboundTimeoutMs ?? options.queryTimeoutMs })
    // Measured here, decided by the peer: a member sheds new leaves while loaded.
    this.load = new LoadMeter(load => {
      this.spareUpload.sample(Math.floor(performance.now()), load.uploadedBytesTotal)
      if (this.role !== 'leaf') this.peer.reportLoad(load)
    }, () => init.uploadUtilization?.() ?? 0, LOAD_REPORT_INTERVAL_MS, () => init.uploadedBytes?.() ?? 0)
    this.nat = new OverlayNat(node, { peer: this.peer, input: fn => { this.input(fn) }, emit: (name, detail) => { this.emit(name, detail) }, running: () => this.running })
  }

  /** The current role ('leaf' before start). */
  get role (): OverlayRole { return this.peer.role }

  /** Joins the overlay: takes the configured role and bootstraps. */
  async start (): Promise<void> {
    if (this.running) return
    this.running = true
    this.on('peer:disconnect', (e: CustomEvent<PeerId>) => {
      const peerId = e.detail.toString()
      this.input(nowMs => this.peer.peerDisconnected(nowMs, { id: keyOfPeerId(peerId), peerId, addrs: [] }))
    })
    // Provider records need a live connection of some age (the peer's ProviderAdmission decides); it learns them here.
    this.on('connection:open', (e: CustomEvent<Connection>) => { this.reportConnection(e.detail, 'open') })
    this.on('connection:close', (e: CustomEvent<Connection>) => { this.reportConnection(e.detail, 'close') })
    this.on('peer:identify', (e: CustomEvent<{ peerId: PeerId, listenAddrs: Array<{ toString: () => string }>, protocols: string[], observedAddr?: { toString: () => string } }>) => {
      const r = e.detail
      if (r.observedAddr != null) this.places.noteObserved(r.observedAddr.toString())
      this.nat.identified(e.detail as IdentifyResult)
      if (!r.protocols.includes(DHT_PROTOCOL)) return
      const peerId = r.peerId.toString()
      const addrs = r.listenAddrs.map(a => stripP2p(a.toString())).slice(0, MAX_ADDRS_PER_CONTACT)
      this.input(nowMs => this.peer.dhtServerSeen(nowMs, { id: keyOfPeerId(peerId), peerId, addrs }))
    })
    this.input(nowMs => this.peer.start(nowMs))
    for (const c of this.node.getConnections()) this.reportConnection(c, 'open')
    this.load.start()
    await this.listening
  }

  /** Leaves the overlay: stops timers and RPCs (the libp2p node is the caller's to stop). */
  async stop (): Promise<void> {
    if (!this.running) return
    this.input(() => this.peer.stop())
    this.running = false
    this.timer?.clear()
    this.load.stop()
    for (const [name, fn] of this.listeners) this.node.removeEventListener(name as 'peer:disconnect', fn)
    this.listeners.length = 0
    this.nat.stop()
    await this.wire.stop()
  }

  /** Announces that this peer holds `contentId` (call after an item is complete and verified). */
  announce (contentId: ContentId): void {
    const id = parseContentId(contentId)
    const key = contentKey(id)
    const hex = keyToHex(key)
    if (this.held.has(hex)) return
    if (this.held.size >= MAX_HELD_ITEMS) throw new RangeError(`a peer announces at most ${MAX_HELD_ITEMS} items`)
    this.held.set(hex, { key, contentId: id })
    this.input(nowMs => this.peer.hold(nowMs, key))
    this.emit('provider:announced', { contentId: id })
  }

  /** Withdraws an announcement (the item was deleted). */
  withdraw (contentId: ContentId): void {
    const id = parseContentId(contentId)
    const key = contentKey(id)
    if (!this.held.delete(keyToHex(key))) return
    this.input(nowMs => this.peer.drop(nowMs, key))
    this.emit('provider:withdrawn', { contentId: id })
  }

  /**
   * Finds peers that hold `contentId`, nearest first (the peer's find: a
   * leaf asks its supernodes, a member the DHT and the announcers). Never
   * includes this peer. Resolves [] when nothing is found; rejects only on
   * abort or stop.
   */
  async findProviders (contentId: ContentId, options: { signal?: AbortSignal } = {}): Promise<ProviderInfo[]> {
    if (!this.running) throw new OverlayStoppedError('overlay not running')
    const id = parseContentId(contentId)
    const signal = options.signal
    signal?.throwIfAborted()
    const contacts = await new Promise<Contact[]>((resolve, reject) => {
      let findId = -1
      const onAbort = (): void => { this.findWaiters.delete(findId); reject(signal?.reason) }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.input(nowMs => {
        const f = this.peer.find(nowMs, contentKey(id))
        findId = f.findId
        this.findWaiters.set(findId, providers => { signal?.removeEventListener('abort', onAbort); resolve(providers) })
        return f.effects
      })
    })
    const out = contacts.map(c => ({ peerId: c.peerId, multiaddrs: [...c.addrs], origin: c.origin === true, asn: this.placeOf(c).asn }))
    this.emit('providers:found', { contentId: id, providers: out.length, origins: out.filter(p => p.origin).length })
    return out
  }

  /** A snapshot for `swarmcdn status` and the peer's JSON events. */
  status (): OverlayStatus {
    const place = this.selfPlace()
    return {
      peerId: this.node.peerId.toString(),
      role: this.role,
      attached: this.peer.attached().map(c => ({ peerId: c.peerId, multiaddrs: c.addrs })),
      routingTableSize: this.peer.routingTableSize,
      leaves: this.peer.leafCount ?? 0,
      providerRecords: this.peer.providerRecords,
      itemsHeld: this.held.size,
      publicAddress: place.address != null ? formatIpAddress(place.address) : undefined,
      asn: place.asn,
      reachability: this.peer.reachability(Math.floor(performance.now())),
      relays: this.nat.relays
    }
  }

  /** Peer ids of the providers of `contentId` this node's DHT store answers with now (none for a leaf): diagnostics. */
  providersStored (contentId: ContentId): string[] {
    return this.peer.providersStored(Math.floor(performance.now()), contentKey(parseContentId(contentId)))
  }

  /** Switches role now (tests, operators); re-announces held items in the new role. */
  async setRole (role: OverlayRole, reason: string): Promise<void> {
    this.input(nowMs => this.peer.setRole(nowMs, role, reason))
    await this.listening
  }

  // ---- OverlayPeerHost: what the peer asks of its world -------------------------

  placeOf (c: Contact): PeerPlace { return this.places.placeOf(c) }

  selfPlace (): PeerPlace { return this.places.selfPlace(this.peer.contact) }

  altoCost (from: PeerPlace['address'], to: PeerPlace['address']): number | undefined { return this.init.alto?.cost(from, to) }

  heldKeys (): Iterable<Key> { return [...this.held.values()].map(h => h.key) }

  policyInputs (): PolicyMeasurements {
    const place = this.selfPlace()
    return {
      // Unset: the peer's dial-back verdicts decide (a public-looking address proves nothing behind a NAT).
      ...(this.init.reachable !== undefined ? { reachable: this.init.reachable } : {}),
      // Measured: the configured upload limit (or the rate this peer has shown it sustains) less its recent upload.
      spareUploadBytesPerSec: this.init.spareUploadBytesPerSec ?? this.spareUpload.spareBytesPerSec(Math.floor(performance.now()), this.init.uploadCapacityBytesPerSec)
    }
  }

  // ---- inputs and effects ----------------------------------------------------

  /** A connection opened or closed; its age is told in the peer's clock (performance.now), from libp2p's wall-clock timeline. */
  private reportConnection (c: Connection, what: 'open' | 'close'): void {
    if (!this.running) return
    const nowMs = Math.floor(performance.now())
    const peerId = c.remotePeer.toString()
    if (what === 'close') { this.peer.connectionClosed(nowMs, peerId, c.id); return }
    const ageMs = Math.max(0, Date.now() - c.timeline.open)
    this.peer.connectionOpened(nowMs, peerId, c.id, c.remoteAddr.toString(), nowMs - ageMs)
  }

  /** Feeds one input to the peer, performs its effects, re-arms the one timer. */
  private input (fn: (nowMs: number) => OverlayEffect[]): void {
    if (!this.running) return
    const nowMs = Math.floor(performance.now())
    this.peer.updateSelf(this.selfContact())
    for (const e of fn(nowMs)) this.perform(e)
    this.nat.sync(nowMs)
    this.arm()
  }

  private perform (e: OverlayEffect): void {
    switch (e.type) {
      case 'send': this.wire.send(e.to, e.message); break
      case 'penalize':
        this.emit('peer:penalized', { peerId: e.peer, reason: e.reason })
        void this.node.hangUp(peerIdFromString(e.peer)).catch(() => {})
        break
      case 'role-changed':
        this.listening = this.wire.setListening(e.role !== 'leaf').catch((err: Error) => { this.emit('overlay:error', { message: err.message }) })
        this.emit('role:changed', { role: e.role, previous: e.previous, reason: e.reason })
        break
      case 'attached': this.emit('supernode:attached', { peerId: e.supernode.peerId, multiaddrs: e.supernode.addrs }); break
      case 'detached': this.emit('supernode:detached', { peerId: e.supernode.peerId, reason: e.reason }); break
      case 'providers-found': {
        const w = this.findWaiters.get(e.findId)
        this.findWaiters.delete(e.findId)
        w?.(e.providers)
        break
      }
    }
  }

  private arm (): void {
    if (!this.running) return
    const at = this.peer.nextDeadlineMs()
    if (at === undefined) return
    if (this.timer != null && this.timerAtMs !== undefined && this.timerAtMs <= at) return
    this.timer?.clear()
    this.timerAtMs = at
    // After pending I/O: the peer's deadlines (keep-alives, requests) must not expire answers that arrived in time during a stall.
    this.timer = setTimeoutAfterIo(() => {
      this.timer = undefined
      this.timerAtMs = undefined
      this.input(nowMs => this.peer.timer(nowMs))
    }, Math.max(0, Math.min(at - performance.now(), 2 ** 31 - 1)))
  }

  // ---- contacts ------------------------------------------------------------------

  private selfContact (): Contact {
    // A relayed address over the relay's loopback address is of use to nobody (libp2p makes one per relay address).
    const addrs = this.node.getMultiaddrs().map(a => stripP2p(a.toString())).filter(a => !isLoopbackRelayed(a)).slice(0, MAX_ADDRS_PER_CONTACT)
    return { id: keyOfPeerId(this.node.peerId.toString()), peerId: this.node.peerId.toString(), addrs }
  }

  private on<K extends 'peer:disconnect' | 'peer:identify' | 'connection:open' | 'connection:close'> (name: K, fn: (e: any) => void): void {
    this.node.addEventListener(name, fn)
    this.listeners.push([name, fn])
  }

  private emit<K extends keyof OverlayEvents> (name: K, detail: OverlayEvents[K]['detail']): void {
    this.safeDispatchEvent(name, { detail })
  }
}
