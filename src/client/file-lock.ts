/**
 * An exclusive lock between processes on one machine: a lock file created
 * with O_EXCL that holds the owner's pid and host name.
 *
 * Rules:
 * - Whoever creates the file holds the lock; `release` removes it.
 * - A lock whose pid is not alive on this host (the owner crashed or was
 *   SIGKILLed) is stale and taken over: it is renamed aside (atomic, so of
 *   two processes taking over at once only one gets it), checked to still
 *   be the stale lock that was judged, and removed; then creation is tried
 *   again. If the renamed file turns out to be a fresh lock (another
 *   process took over and created its own between our read and our
 *   rename), it is linked back into place.
 * - A lock from another host (a shared network folder) can't be checked:
 *   it counts as held.
 *
 * Why not `proper-lockfile`: it judges a lock stale by the age of its mtime
 * (a crashed download blocks the next run for its `stale` time) and can't
 * say which process holds a lock; users need both.
 */
import { link, open, readFile, rename, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'

/** Default pause between attempts while waiting for a held lock, ms. */
export const DEFAULT_LOCK_POLL_MS = 200
/** Stale-lock takeovers tried in a row before giving up (each one means another process raced us). */
const MAX_TAKEOVER_ATTEMPTS = 8
/** Times an unreadable (empty, just created) lock file is read again before it counts as held by an unknown process. */
const UNREADABLE_RETRIES = 5
/** Pause between those reads, ms. */
const UNREADABLE_RETRY_MS = 20
/** Largest lock file read, bytes (ours are ~100). */
const MAX_LOCK_FILE_BYTES = 4096

/** What a lock file holds. */
export interface LockOwner {
  pid: number
  hostname: string
  /** Random per acquisition: tells a fresh lock from the stale one judged a moment ago. */
  nonce: string
}

/** The lock is held by another live process (and we were not asked to wait). */
export class FileLockedError extends Error {
  override name = 'FileLockedError'
  readonly code = 'ERR_FILE_LOCKED'
  constructor (message: string, readonly lockPath: string, readonly owner: LockOwner | undefined) {
    super(message)
  }
}

/** Options for acquireFileLock. */
export interface FileLockInit {
  /** Wait until the holder releases (or dies) instead of throwing FileLockedError. Default false. */
  wait?: boolean
  /** Pause between attempts while waiting, ms. Default DEFAULT_LOCK_POLL_MS. */
  pollMs?: number
  /** Stops waiting (rejects with the signal's reason). */
  signal?: AbortSignal
  /** What the lock protects, for error messages. Default: the lock file's path. */
  what?: string
  /** Called once when the lock is found held and we start waiting. */
  onWait?: (owner: LockOwner | undefined) => void
}

/** A held lock. */
export interface FileLock {
  readonly path: string
  /** Removes the lock file (once; later calls do nothing). */
  release: () => Promise<void>
}

/** True when a process with `pid` runs on this host (EPERM: it runs, as another user). */
export function isProcessAlive (pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the lock at `lockPath` (see the file's rules). */
export async function acquireFileLock (lockPath: string, init: FileLockInit = {}): Promise<FileLock> {
  const me: LockOwner = { pid: process.pid, hostname: hostname(), nonce: randomBytes(8).toString('hex') }
  let takeovers = 0
  let unreadable = 0
  let waiting = false
  while (true) {
    init.signal?.throwIfAborted()
    if (await tryCreate(lockPath, me)) return heldLock(lockPath, me)
    const owner = await readOwner(lockPath)
    if (owner === 'gone') continue
    // A holder between create and write leaves an empty file for a moment: look again before calling it foreign.
    if (owner == null && ++unreadable <= UNREADABLE_RETRIES) { await pause(UNREADABLE_RETRY_MS, init.signal); continue }
    const stale = owner != null && owner.hostname === me.hostname && !isProcessAlive(owner.pid)
    if (stale) {
      if (++takeovers > MAX_TAKEOVER_ATTEMPTS) throw new FileLockedError(`cannot take over the stale lock ${lockPath}: other processes keep racing for it`, lockPath, owner)
      await takeOver(lockPath, owner)
      continue
    }
    if (init.wait !== true) throw new FileLockedError(`${init.what ?? lockPath} is in use by ${describeOwner(owner, me.hostname)} (lock ${lockPath})`, lockPath, owner)
    if (!waiting) { waiting = true; init.onWait?.(owner) }
    await pause(init.pollMs ?? DEFAULT_LOCK_POLL_MS, init.signal)
  }
}

function describeOwner (owner: LockOwner | undefined, host: string): string {
  if (owner == null) return 'another process (unreadable lock file)'
  return owner.hostname === host ? `process ${owner.pid}` : `process ${owner.pid} on ${owner.hostname}`
}

async function tryCreate (lockPath: string, me: LockOwner): Promise<boolean> {
  let fh
  try {
    fh = await open(lockPath, 'wx')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
  try {
    await fh.writeFile(JSON.stringify(me) + '\n')
  } finally {
    await fh.close()
  }
  return true
}

/**
 * The lock file's owner; undefined when it does not parse (a holder that
 * crashed between create and write, or a foreign file: never judged stale,
 * the user removes it); 'gone' when it vanished meanwhile.
 */
async function readOwner (lockPath: string): Promise<LockOwner | undefined | 'gone'> {
  let text: string
  try {
    text = await readFile(lockPath, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone'
    throw err
  }
  if (text.length > MAX_LOCK_FILE_BYTES) return undefined
  try {
    const o = JSON.parse(text) as Partial<LockOwner>
    if (typeof o.pid === 'number' && typeof o.hostname === 'string' && typeof o.nonce === 'string') return { pid: o.pid, hostname: o.hostname, nonce: o.nonce }
  } catch {}
  // Created but not yet written by a live process: an empty file. Counted as held by nobody known.
  return undefined
}

/** Moves the stale lock aside and removes it, unless it turns out to be a fresh one (then it goes back). */
async function takeOver (lockPath: string, stale: LockOwner): Promise<void> {
  const aside = `${lockPath}.${randomBytes(4).toString('hex')}.stale`
  try {
    await rename(lockPath, aside)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return // another process moved it first
    throw err
  }
  const moved = await readOwner(aside)
  if (moved !== 'gone' && moved != null && moved.nonce !== stale.nonce) {
    // We moved a live lock created after our read: put it back (link fails if a third process already took the path).
    await link(aside, lockPath).catch(() => {})
  }
  await unlink(aside).catch(() => {})
}

function heldLock (lockPath: string, me: LockOwner): FileLock {
  let released = false
  return {
    path: lockPath,
    release: async () => {
      if (released) return
      released = true
      // Remove only our own lock: a stale-takeover race could in theory have replaced it.
      const owner = await readOwner(lockPath)
      if (owner !== 'gone' && owner?.nonce === me.nonce) await unlink(lockPath).catch(() => {})
    }
  }
}

async function pause (ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { clearTimeout(timer); reject(signal?.reason) }
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
