/**
 * After SIGINT/SIGTERM a command stops its downloads (each saves its
 * state) and its node; if anything still holds the process after
 * SIGNAL_EXIT_DEADLINE_MS (a peer that never answers a close, a library
 * timer), it exits anyway. That is safe: a partial download's state file
 * is replaced atomically (temp file + rename), so exiting mid-save costs at
 * most the pieces of that save, never the file (the SIGKILL case).
 */

/** Time a command may take to stop after SIGINT/SIGTERM before it exits anyway, ms. */
export const SIGNAL_EXIT_DEADLINE_MS = 900

/** Arms the deadline (once per process): an unref'd timer, so a clean stop exits as soon as it is done. */
export function exitWithinDeadline (): void {
  if (armed) return
  armed = true
  setTimeout(() => { process.exit(process.exitCode ?? 1) }, SIGNAL_EXIT_DEADLINE_MS).unref()
}

let armed = false
