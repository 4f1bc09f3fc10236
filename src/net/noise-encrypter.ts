/**
 * `@chainsafe/libp2p-noise` as this project runs it: the library's
 * connection encrypter, each secured connection's receive step without one
 * copy of every received byte.
 *
 * Why: for every received Noise message (up to 64 KiB) the library's
 * decrypt (`EncryptedMessageStream.decrypt`, v17) first makes a `dst`
 * buffer with `list.subarray(...)` for its WebAssembly cipher to decrypt
 * into. A message arrives as a list of the TCP reads it spans, and a
 * list's `subarray` joins them into a new buffer, which is then never
 * used: the node cipher (noise-crypto.ts) decrypts messages of
 * SMALL_MESSAGE_BYTES or more with node:crypto into buffers of its own.
 * On loopback at 100+ MiB/s TCP reads average ~25 KiB, so nearly every
 * message spans reads and every received byte was copied once more, into
 * one more 64 KiB buffer that lived until a scavenge (peak RSS:
 * docs/BENCHMARKS.md "Session 10").
 *
 * How: the connection the library returns gets its own `decrypt`, the
 * library's steps without that copy (a small message still gets its `dst`,
 * as the WebAssembly cipher wants). It relies on the shape of v17's
 * connection (`decrypt(chunk)`, `handshake.decrypt(ciphertext, dst)`); a
 * connection of another shape is left as the library made it
 * (`hasReceiveWithoutCopy` tells, and a test checks it for the installed
 * version).
 */
import { noise, type NoiseInit } from '@chainsafe/libp2p-noise'
import type { ConnectionEncrypter, SecuredConnection } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { SMALL_MESSAGE_BYTES } from './noise-crypto.js'

/** Longest Noise transport message, tag included (the Noise spec's 65535). */
const NOISE_MSG_MAX_LENGTH_BYTES = 65535
const CHACHA_TAG_LENGTH = 16

/** Marks a connection whose decrypt is ours. */
const RECEIVE_WITHOUT_COPY = Symbol('swarmcdn.noise.receiveWithoutCopy')

type NoiseFactory = ReturnType<typeof noise>

/** What this file needs of the library's encrypted connection (v17). */
interface LibraryEncryptedStream {
  decrypt: (chunk: Uint8Array | Uint8ArrayList) => Uint8ArrayList
  handshake: { decrypt: (ciphertext: Uint8Array | Uint8ArrayList, dst?: Uint8Array) => Uint8Array | Uint8ArrayList }
  metrics?: { decryptedPackets: { increment: () => void }, decryptErrors: { increment: () => void } }
  [RECEIVE_WITHOUT_COPY]?: true
}

/** `noise(init)` whose secured connections decrypt without the extra copy (see the file's comment). */
export function noiseEncrypter (init: NoiseInit = {}): NoiseFactory {
  const create = noise(init)
  return (components) => {
    const encrypter = create(components)
    const outbound = encrypter.secureOutbound.bind(encrypter)
    const inbound = encrypter.secureInbound.bind(encrypter)
    encrypter.secureOutbound = async (...args) => withReceiveWithoutCopy(await outbound(...args))
    encrypter.secureInbound = async (...args) => withReceiveWithoutCopy(await inbound(...args))
    return encrypter satisfies ConnectionEncrypter
  }
}

/** True when `connection` (a secured connection's stream) decrypts with this file's step. */
export function hasReceiveWithoutCopy (connection: unknown): boolean {
  return (connection as Partial<LibraryEncryptedStream> | undefined)?.[RECEIVE_WITHOUT_COPY] === true
}

function withReceiveWithoutCopy<S extends SecuredConnection<unknown>> (secured: S): S {
  const stream = secured.connection as unknown as Partial<LibraryEncryptedStream>
  if (typeof stream.decrypt !== 'function' || stream.decrypt.length !== 1 || typeof stream.handshake?.decrypt !== 'function') return secured
  const s = stream as LibraryEncryptedStream
  s.decrypt = (chunk) => decryptMessages(s, chunk)
  s[RECEIVE_WITHOUT_COPY] = true
  return secured
}

/** The library's decrypt (v17, utils.js) minus the `dst` copy for messages the node cipher decrypts. */
function decryptMessages (stream: LibraryEncryptedStream, chunk: Uint8Array | Uint8ArrayList): Uint8ArrayList {
  const output = new Uint8ArrayList()
  for (let i = 0; i < chunk.byteLength; i += NOISE_MSG_MAX_LENGTH_BYTES) {
    const end = Math.min(i + NOISE_MSG_MAX_LENGTH_BYTES, chunk.byteLength)
    if (end - CHACHA_TAG_LENGTH < i) throw new Error('Invalid chunk')
    const encrypted = chunk instanceof Uint8Array ? chunk.subarray(i, end) : chunk.sublist(i, end)
    // The WebAssembly cipher (small messages) decrypts into dst; the node cipher ignores it.
    const dst = end - i < SMALL_MESSAGE_BYTES ? chunk.subarray(i, end - CHACHA_TAG_LENGTH) : undefined
    try {
      output.append(stream.handshake.decrypt(encrypted, dst))
      stream.metrics?.decryptedPackets.increment()
    } catch (err) {
      stream.metrics?.decryptErrors.increment()
      throw err
    }
  }
  return output
}
