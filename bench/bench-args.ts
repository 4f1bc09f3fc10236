/**
 * Command-line options of a benchmark script, on node:util parseArgs
 * (strict): `--help` prints the usage and exits 0; an unknown option or a
 * value that is not a positive number prints the usage and exits 2, so a
 * mistyped flag never starts a long run with the defaults.
 */
import { parseArgs } from 'node:util'

/** Options of benchArgs. */
export interface BenchArgsInit {
  /** The usage text printed for --help and after an error. */
  usage: string
  /** Numeric options by name (without --), with their defaults. */
  numbers?: Record<string, number>
  /** Comma-separated lists of numbers by name, with their defaults. */
  lists?: Record<string, number[]>
  /** Boolean flags by name. */
  flags?: string[]
}

/** Parsed options: every number, list and flag named in the init. */
export interface BenchArgs {
  numbers: Record<string, number>
  lists: Record<string, number[]>
  flags: Record<string, boolean>
}

/** A bad benchmark command line: unknown option, missing or non-positive value. */
export class BenchArgsError extends Error {
  constructor (message: string) { super(message); this.name = 'BenchArgsError' }
}

/** Parses `argv`; `help` is true for --help. Throws BenchArgsError for bad input. */
export function parseBenchArgs (init: BenchArgsInit, argv: string[]): BenchArgs & { help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } }
  for (const n of [...Object.keys(init.numbers ?? {}), ...Object.keys(init.lists ?? {})]) options[n] = { type: 'string' }
  for (const f of init.flags ?? []) options[f] = { type: 'boolean' }
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values
  } catch (err) {
    throw new BenchArgsError((err as Error).message)
  }
  const positive = (name: string, text: string): number => {
    const v = Number(text)
    if (text.trim() === '' || !Number.isFinite(v) || v <= 0) throw new BenchArgsError(`--${name}: expected a positive number, got "${text}"`)
    return v
  }
  const out = { numbers: {} as Record<string, number>, lists: {} as Record<string, number[]>, flags: {} as Record<string, boolean>, help: values.help === true }
  for (const [n, def] of Object.entries(init.numbers ?? {})) out.numbers[n] = typeof values[n] === 'string' ? positive(n, values[n]) : def
  for (const [n, def] of Object.entries(init.lists ?? {})) out.lists[n] = typeof values[n] === 'string' ? values[n].split(',').map(t => positive(n, t)) : def
  for (const f of init.flags ?? []) out.flags[f] = values[f] === true
  return out
}

/** Parses process.argv for a benchmark: prints the usage and exits 0 on --help, 2 on bad input. */
export function benchArgs (init: BenchArgsInit, argv: string[] = process.argv.slice(2)): BenchArgs {
  try {
    const parsed = parseBenchArgs(init, argv)
    if (parsed.help) {
      process.stdout.write(`${init.usage}\n`)
      process.exit(0)
    }
    return parsed
  } catch (err) {
    if (!(err instanceof BenchArgsError)) throw err
    process.stderr.write(`${err.message}\n\n${init.usage}\n`)
    process.exit(2)
  }
}
