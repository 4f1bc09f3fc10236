/**
 * Writes a run of bytes (one buffer or its chunks in order) at a file
 * offset, in system calls of at most WRITE_CALL_MAX_BYTES each, several in
 * flight at once on libuv's file threads.
 *
 * Why not one writev of the whole piece: the kernel sizes the page-cache
 * folios it allocates for a buffered write by the bytes left in that one
 * call, so a 1 MiB write asks for large (order-8) folios. On the VMs this
 * project is measured on, large folios come from memory the host has taken
 * back, and copying into them cost 0.1-0.8 s of system time per 512 MiB
 * (dd with bs=1M, 8 runs), where 64 KiB writes cost a steady 0.11 s (and
 * curl, which writes what each read gave it, 0.27 s for its whole run). On
 * other machines 64 KiB calls cost as little as 1 MiB ones: the difference
 * is the number of requests, 16 per MiB, each a few microseconds of
 * dispatch.
 */
import type { FileHandle } from 'node:fs/promises'

/** Largest single write call, bytes (see the file's comment). */
export const WRITE_CALL_MAX_BYTES = 64 * 1024
/** Chunks per write call at most: below every platform's IOV_MAX (1024 on Linux). */
export const WRITE_CALL_MAX_CHUNKS = 512
/** Write calls of one run in flight at once: libuv's default file thread count, so one run does not queue behind itself. */
export const WRITE_CALLS_IN_FLIGHT = 4

/**
 * Writes `bytes` at `offset` of `fh` (see the file's comment); throws the
 * first write error, or an error for a write that makes no progress, once
 * no call of this run is in flight any more (so none outlives it).
 */
export async function writeAt (fh: FileHandle, bytes: Uint8Array | readonly Uint8Array[], offset: number): Promise<void> {
  const calls = splitIntoCalls(bytes instanceof Uint8Array ? [bytes] : bytes, offset)
  let next = 0
  let failure: { err: unknown } | undefined
  const worker = async (): Promise<void> => {
    while (next < calls.length && failure == null) {
      const call = calls[next++]
      try {
        await writeFully(fh, call.chunks, call.offset)
      } catch (err) {
        failure ??= { err }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(WRITE_CALLS_IN_FLIGHT, calls.length) }, worker))
  if (failure != null) throw failure.err
}

interface WriteCall { chunks: Uint8Array[], offset: number }

/** The chunks regrouped into calls of at most WRITE_CALL_MAX_BYTES and WRITE_CALL_MAX_CHUNKS (views, no copies), with each call's file offset. */
export function splitIntoCalls (chunks: readonly Uint8Array[], offset: number): WriteCall[] {
  const calls: WriteCall[] = []
  let current: WriteCall = { chunks: [], offset }
  let currentBytes = 0
  let position = offset
  for (const chunk of chunks) {
    let rest = chunk
    while (rest.byteLength > 0) {
      if (currentBytes === WRITE_CALL_MAX_BYTES || current.chunks.length === WRITE_CALL_MAX_CHUNKS) {
        calls.push(current)
        current = { chunks: [], offset: position }
        currentBytes = 0
      }
      const take = Math.min(rest.byteLength, WRITE_CALL_MAX_BYTES - currentBytes)
      current.chunks.push(take === rest.byteLength ? rest : rest.subarray(0, take))
      rest = rest.subarray(take)
      currentBytes += take
      position += take
    }
  }
  if (currentBytes > 0) calls.push(current)
  return calls
}

/** One call's chunks written completely at `offset` (a short write continues where it stopped). */
async function writeFully (fh: FileHandle, chunks: Uint8Array[], offset: number): Promise<void> {
  let left = chunks.reduce((n, c) => n + c.byteLength, 0)
  let position = offset
  while (left > 0) {
    const { bytesWritten } = await fh.writev(chunks, position)
    if (bytesWritten === 0) throw new Error(`a write at offset ${position} made no progress`)
    left -= bytesWritten
    position += bytesWritten
    chunks = dropBytes(chunks, bytesWritten)
  }
}

/** `chunks` without their first `n` bytes (after a short write). */
function dropBytes (chunks: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const c of chunks) {
    if (n >= c.byteLength) { n -= c.byteLength; continue }
    out.push(n > 0 ? c.subarray(n) : c)
    n = 0
  }
  return out
}
