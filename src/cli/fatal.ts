/**
 * One clear line for errors a user can cause (bad input, unreachable peer,
 * missing file); a stack trace only with SWARMCDN_DEBUG=1.
 */
export function reportFatal (err: unknown): void {
  const e = err as { name?: string, message?: string, stack?: string, code?: string }
  if (process.env.SWARMCDN_DEBUG === '1' && e?.stack != null) {
    process.stderr.write(`${e.stack}\n`)
  } else {
    // Messages that quote input (a JSON parse error shows the text) may span lines: keep it to one.
    const message = (e?.message ?? String(err)).replace(/\s*\n\s*/g, ' ').trim()
    process.stderr.write(`swarmcdn: ${message}\n`)
  }
  process.exitCode = 1
}
