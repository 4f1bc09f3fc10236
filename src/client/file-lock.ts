/**
 * An exclusive lock between processes on one machine: a lock file that
 * holds the owner's pid, host name and a random nonce.
 *
 * Rules:
 * - A lock file appears whole: its content is written to a private temp
 *   file that is then hard-linked into place (link fails if the path
 *   exists), so nobody ever reads a half-written lock and mistakes it for a
 *   foreign one. Whoever's link succeeds holds the lock; `release` removes it.
 * - A lock whose pid is not alive on this host (the owner crashed or was
 *   SIGKILLed) is stale. Removing it is the one step that can hurt a live
 *   holder (a process that read the stale lock, then removed a fresh one
 *   created meanwhile), so removals are serialized by a second lock, the
 *   takeover mutex: its holder reads the lock again and removes it only if
 *   it is still the stale one judged (same nonce). Only a dead owner's lock
 *   is ever removed by someone else, so between that read and the unlink
 *   nothing can replace it. Then creation is tried again: one contender wins.
 * - A takeover mutex left by a dead process (it crashed within the few
 *   milliseconds of a takeover) is removed by the same nonce check.
 * - A lock from another host (a shared network folder) can't be checked:
 *   it counts as held. On a file system without hard links the lock file
 *   is created with O_EXCL and written in place.
 *
 * Why not `proper-lockfile`: it judges a lock stale by the age of its mtime
 * (a crashed download blocks the next run for its `stale` time) and can't
 * say which process holds a lock; users need both.
 */
import { link, open, readFile, unlink, writeFile } from 'node:fs/promises'
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
/** Pause while another contender holds the takeover mutex, ms. */
const MUTEX_POLL_MS = 10
/** Polls of a live takeover mutex before giving up the takeover (the holder finishes within milliseconds). */
const MAX_MUTEX_WAITS = 200
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
      await takeOver(lockPath, owner, me, init.signal)
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
  const content = JSON.stringify(me) + '\n'
  const temp = `${lockPath}.${me.nonce}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(temp, content, { flag: 'wx' })
  } catch (err) {
    if (!isLinkUnsupported(err)) throw err
    return await tryCreateInPlace(lockPath, content)
  }
  try {
    await link(temp, lockPath)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    if (isLinkUnsupported(err)) return await tryCreateInPlace(lockPath, content)
    throw err
  } finally {
    await unlink(temp).catch(() => {})
  }
}

function isLinkUnsupported (err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS'
}

/** O_EXCL create then write: a reader can see it empty for a moment (handled by UNREADABLE_RETRIES). */
async function tryCreateInPlace (lockPath: string, content: string): Promise<boolean> {
  let fh
  try {
    fh = await open(lockPath, 'wx')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
  try {
    await fh.writeFile(content)
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

/** Removes the stale lock, if it still is the one judged, while holding the takeover mutex. */
async function takeOver (lockPath: string, stale: LockOwner, me: LockOwner, signal?: AbortSignal): Promise<void> {
  const mutexPath = `${lockPath}.takeover`
  for (let tries = 0; !(await tryCreate(mutexPath, me)); tries++) {
    const holder = await readOwner(mutexPath)
    if (holder === 'gone') continue
    if (holder != null && holder.hostname === me.hostname && !isProcessAlive(holder.pid)) {
      await removeIfStill(mutexPath, holder)
      continue
    }
    // Another contender is taking over right now: the lock will be fresh when it is done.
    if (tries >= MAX_MUTEX_WAITS) return
    await pause(MUTEX_POLL_MS, signal)
  }
  try {
    await removeIfStill(lockPath, stale)
  } finally {
    await removeIfStill(mutexPath, me)
  }
}

/** Unlinks `path` if it still holds `owner`'s lock (same nonce). */
async function removeIfStill (path: string, owner: LockOwner): Promise<void> {
  const now = await readOwner(path)
  if (now !== 'gone' && now?.nonce === owner.nonce) await unlink(path).catch(() => {})
}

function heldLock (lockPath: string, me: LockOwner): FileLock {
  let released = false
  return {
    path: lockPath,
    release: async () => {
      if (released) return
      released = true
      // Remove only our own lock: a user may have deleted ours and another process created its own.
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
