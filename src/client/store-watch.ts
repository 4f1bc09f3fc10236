/**
 * Keeps a served store in step with its folder: `publish` and `unpublish`
 * in another process change DIR/items; a running seeder or peer notices
 * (inotify through fs.watch, and a slow rescan in case an event was
 * missed, e.g. on a network file system) and reports what came and went.
 */
import { watch, type FSWatcher } from 'node:fs'
import { join } from 'node:path'
import type { ContentStore } from '../store/content-store.js'
import type { ContentId } from '../core/content/content-id.js'

/** Default time between rescans without a file-system event, ms. */
export const DEFAULT_STORE_RESCAN_MS = 30_000
/** Events within this window make one rescan, ms (a publish is a burst: staging folder, files, rename). */
const SETTLE_MS = 200

/** Options of watchStore. */
export interface StoreWatchInit {
  /** Called after a rescan that found changes. */
  onChange: (change: { added: ContentId[], removed: ContentId[] }) => void
  /** Called when a rescan failed (the store folder vanished or is unreadable); the watch goes on. */
  onError?: (err: Error) => void
  /** Time between rescans without an event, ms. Default DEFAULT_STORE_RESCAN_MS (30 s). */
  rescanIntervalMs?: number
}

/** Watches `store`'s folder; returns the function that stops watching. */
export function watchStore (store: ContentStore, init: StoreWatchInit): () => void {
  let stopped = false
  let settle: ReturnType<typeof setTimeout> | undefined
  let running: Promise<void> = Promise.resolve()
  const rescan = (): void => {
    // One rescan at a time, in order: two overlapping ones could report an item twice.
    running = running.then(async () => {
      if (stopped) return
      try {
        const change = await store.rescan()
        if (!stopped && (change.added.length > 0 || change.removed.length > 0)) init.onChange(change)
      } catch (err) {
        init.onError?.(err as Error)
      }
    })
  }
  const soon = (): void => {
    if (settle != null) clearTimeout(settle)
    settle = setTimeout(rescan, SETTLE_MS)
  }
  let watcher: FSWatcher | undefined
  try {
    watcher = watch(join(store.dir, 'items'), { persistent: false }, soon)
    watcher.on('error', err => { init.onError?.(err) })
  } catch (err) {
    init.onError?.(err as Error)
  }
  const interval = setInterval(rescan, init.rescanIntervalMs ?? DEFAULT_STORE_RESCAN_MS)
  interval.unref()
  return () => {
    stopped = true
    watcher?.close()
    clearInterval(interval)
    if (settle != null) clearTimeout(settle)
  }
}
