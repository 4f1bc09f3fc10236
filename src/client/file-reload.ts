/**
 * Reloads something a running node read from files (a prefix table, an
 * ISP's ALTO maps, a fleet record) on SIGHUP and when one of the files
 * changes. One mechanism for every such input, so each behaves the same:
 *
 * - Reloads run one at a time, in order: a burst of changes and signals
 *   never applies an older load after a newer one.
 * - `load` reads and checks everything first; only when it succeeds is the
 *   result applied. A load that throws (a missing, half-written or broken
 *   file), or an `apply` that refuses the value, leaves the current value
 *   in place and is reported.
 * - Files are polled (fs.watchFile): that survives a file replaced by
 *   rename, as updaters and editors do, where an inotify watch would
 *   follow the old inode.
 */
import { unwatchFile, watchFile } from 'node:fs'

/** Default polling period of the watched files, ms. */
export const DEFAULT_FILE_RELOAD_POLL_MS = 2000

/** Why a reload ran. */
export type FileReloadReason = 'signal' | 'file-changed'

/** Options of watchFileReload; `load` and `apply` are required. */
export interface FileReloadInit<T> {
  /** Files whose change starts a reload. Default none (SIGHUP only). */
  paths?: readonly string[]
  /** Reads and checks the new value; throws to keep the current one. */
  load: () => Promise<T>
  /** Makes the loaded value current; may throw to refuse it (e.g. an older fleet record), keeping the current one. */
  apply: (value: T) => void
  /** Called after a value was applied. */
  onReload?: (value: T, reason: FileReloadReason) => void
  /** Called when a load failed and the current value was kept. */
  onError?: (err: Error, reason: FileReloadReason) => void
  /** Reload on SIGHUP. Default true. */
  onSignal?: boolean
  /** Time between checks of the files, ms. Default DEFAULT_FILE_RELOAD_POLL_MS (2 s). */
  pollMs?: number
}

/** A running watch: `stop` ends it; `idle` settles once the reloads started so far finished. */
export interface FileReloadWatch {
  stop: () => void
  idle: () => Promise<void>
}

/** Starts reloading (see the file's rules). */
export function watchFileReload<T> (init: FileReloadInit<T>): FileReloadWatch {
  let running: Promise<void> = Promise.resolve()
  const reload = (reason: FileReloadReason): void => {
    running = running.then(async () => {
      let value: T
      try {
        value = await init.load()
        init.apply(value)
      } catch (err) {
        init.onError?.(err as Error, reason)
        return
      }
      init.onReload?.(value, reason)
    })
  }
  const onHup = (): void => { reload('signal') }
  if (init.onSignal !== false) process.on('SIGHUP', onHup)
  const files = [...new Set(init.paths ?? [])]
  const listeners = files.map(f => {
    const listener = (cur: { mtimeMs: number, size: number, ino: number }, prev: { mtimeMs: number, size: number, ino: number }): void => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) reload('file-changed')
    }
    watchFile(f, { interval: init.pollMs ?? DEFAULT_FILE_RELOAD_POLL_MS, persistent: false }, listener)
    return { f, listener }
  })
  return {
    stop: () => {
      process.off('SIGHUP', onHup)
      for (const { f, listener } of listeners) unwatchFile(f, listener)
    },
    idle: async () => { await running }
  }
}
