/**
 * One WebTorrent process of bench/mesh.ts: the seeder or a downloader,
 * talking to its parent in JSON lines (stdout out, stdin in). It imports
 * nothing of swarmcdn, so its start-up and CPU are WebTorrent's own.
 *
 *   node dist/bench/mesh-webtorrent.js seed FILE HOST
 *   node dist/bench/mesh-webtorrent.js get MAGNET OUT_DIR HOST
 *
 * Out: {"event":"listening","port":N} (the seeder adds "magnet"), then a
 * downloader's {"event":"done"}; on stdin "stop" (or stdin closed: the
 * parent is gone) it prints {"event":"stopped","uploadedBytes":N} and exits.
 * In: {"peers":["HOST:PORT", ...]}, addresses added as they come (what a
 * tracker's answers would give).
 *
 * What is switched off, so peers meet only through the addresses given:
 * trackers, the DHT, local service discovery, UPnP/NAT-PMP, web seeds and
 * uTP (TCP only, like swarmcdn). Piece picking, choking and peer exchange
 * (ut_pex) are WebTorrent's defaults.
 *
 * Two adaptations of this machine, neither on the data path:
 * - WebTorrent 3.0.21 listens on every interface; this process binds its
 *   server to HOST, so the benchmark opens nothing beyond loopback.
 * - Its WebRTC module (node-datachannel, a native build that downloads a
 *   prebuilt binary at install time) is not installed here; nothing in a
 *   TCP-only client calls it, so `webrtc-polyfill` resolves to a module
 *   whose classes throw if anything ever does.
 */
import net from 'node:net'
import { registerHooks } from 'node:module'
import { createInterface } from 'node:readline'

const NO_WEBRTC_URL = 'data:text/javascript,' + encodeURIComponent([
  'class Unavailable { constructor () { throw new Error("WebRTC is not available in the mesh benchmark") } }',
  'export const RTCPeerConnection = Unavailable',
  'export const RTCSessionDescription = Unavailable',
  'export const RTCIceCandidate = Unavailable',
  'export default { RTCPeerConnection, RTCSessionDescription, RTCIceCandidate }'
].join('\n'))

registerHooks({
  resolve: (specifier, context, next) => specifier === 'webrtc-polyfill' ? { url: NO_WEBRTC_URL, shortCircuit: true } : next(specifier, context)
})

/** Binds a server that asks for a port alone to `host` (see the file's comment). */
function bindServersTo (host: string): void {
  const listen = net.Server.prototype.listen
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    if (typeof args[0] === 'number' && typeof args[1] !== 'string') args.splice(1, 0, host)
    return (listen as (...a: unknown[]) => net.Server).apply(this, args)
  }
}

const send = (m: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(m) + '\n') }

interface WtTorrent {
  uploaded: number
  magnetURI: string
  on: (event: string, cb: (...args: any[]) => void) => void
  addPeer: (addr: string) => boolean
}
interface WtClient {
  torrentPort: number
  address: () => { port: number } | null
  seed: (input: string, opts: Record<string, unknown>, cb: (t: WtTorrent) => void) => WtTorrent
  add: (id: string, opts: Record<string, unknown>) => WtTorrent
  on: (event: string, cb: (...args: any[]) => void) => void
  destroy: (cb: () => void) => void
}

async function main (): Promise<void> {
  const [mode, ...args] = process.argv.slice(2)
  const host = mode === 'seed' ? args[1] : args[2]
  if ((mode !== 'seed' && mode !== 'get') || host == null) throw new Error('usage: mesh-webtorrent.js seed FILE HOST | get MAGNET OUT_DIR HOST')
  bindServersTo(host)
  // No type declarations ship with webtorrent 2.x: the few members used are typed above.
  const pkg: string = 'webtorrent'
  const { default: WebTorrent } = await import(pkg) as { default: new (opts: Record<string, unknown>) => WtClient }
  const client = new WebTorrent({ dht: false, tracker: false, lsd: false, natUpnp: false, natPmp: false, utp: false, webSeeds: false })
  client.on('error', (err: Error) => { send({ event: 'error', message: err.message }); process.exit(1) })
  let torrent: WtTorrent | undefined
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    send({ event: 'stopped', uploadedBytes: torrent?.uploaded ?? 0 })
    // destroy() closes the store and every wire; a hung close must not keep the process.
    setTimeout(() => process.exit(0), 2000).unref()
    client.destroy(() => process.exit(0))
  }
  const lines = createInterface({ input: process.stdin })
  lines.on('line', line => {
    if (line.trim() === 'stop') { stop(); return }
    const m = JSON.parse(line) as { peers?: string[] }
    // A magnet gives its info hash at once; addPeer before it would throw.
    for (const p of m.peers ?? []) { try { torrent?.addPeer(p) } catch (err) { send({ event: 'peer-error', peer: p, message: (err as Error).message }) } }
  })
  lines.on('close', stop)
  const listening = (): number => client.address()?.port ?? client.torrentPort
  if (mode === 'seed') {
    client.seed(args[0], { announce: [] }, t => {
      torrent = t
      send({ event: 'listening', port: listening(), magnet: t.magnetURI.split('&')[0] })
    })
  } else {
    torrent = client.add(args[0], { path: args[1], announce: [] })
    torrent.on('metadata', () => { send({ event: 'metadata' }) })
    torrent.on('done', () => { send({ event: 'done' }) })
    torrent.on('error', (err: Error) => { send({ event: 'error', message: err.message }); process.exit(1) })
    client.on('listening', () => { send({ event: 'listening', port: listening() }) })
  }
}

main().catch((err: unknown) => {
  send({ event: 'error', message: (err as Error).message })
  process.exit(1)
})
