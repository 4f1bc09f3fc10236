/**
 * The connection limits of an item server (web seed, streaming gateway;
 * src/http/item-server.ts, connection-guard.ts) as command-line flags, one
 * set per server under its own prefix (`--http-` on `seed`, `--gateway-`
 * on `stream`). Defaults are the server's own (WEBSEED_DEFAULTS,
 * GATEWAY_DEFAULTS), shown in --help; a flag not given passes nothing, so
 * the server resolves its default once, as without the CLI.
 */
import { type Command, InvalidArgumentError } from 'commander'
import type { ItemServerLimits } from '../http/item-server.js'
import { parseByteSize, parseNonNegativeInt } from './parse-options.js'

/** The limits these flags set (everything but the port). */
export type HttpLimits = Omit<ItemServerLimits, 'port'>

interface LimitFlag { key: keyof HttpLimits, flag: string, arg: string, help: string, parse: (text: string) => number }

function positiveInt (text: string): number {
  const n = parseNonNegativeInt(text)
  if (n < 1) throw new InvalidArgumentError(`must be at least 1: ${text}`)
  return n
}

function positiveBytes (text: string): number {
  const n = parseByteSize(text)
  if (n < 1) throw new InvalidArgumentError(`must be at least 1 byte: ${text}`)
  return n
}

/** One entry per limit: the flag after the prefix, and what it protects. */
const FLAGS: readonly LimitFlag[] = [
  { key: 'maxConnections', flag: 'max-connections', arg: '<n>', parse: positiveInt, help: 'connections at once; when full, a newcomer takes the slot of one that sent no request yet (or stopped reading), else it is closed' },
  { key: 'maxConnectionsPerAddress', flag: 'max-per-address', arg: '<n>', parse: positiveInt, help: 'connections from one IP address, so one host cannot take every slot' },
  { key: 'headersTimeoutMs', flag: 'headers-timeout', arg: '<ms>', parse: positiveInt, help: 'a request\'s headers must arrive whole within this, enforced to 250 ms (slowloris guard)' },
  { key: 'minRequestBytesPerSec', flag: 'min-request-rate', arg: '<bytesPerSec>', parse: positiveBytes, help: 'request headers arriving slower than this on average are cut after 1 s (one line a second is slowloris)' },
  { key: 'requestTimeoutMs', flag: 'request-timeout', arg: '<ms>', parse: positiveInt, help: 'a whole request (not the response) must arrive within this' },
  { key: 'keepAliveTimeoutMs', flag: 'keep-alive-timeout', arg: '<ms>', parse: positiveInt, help: 'an idle kept-alive connection is closed after this' },
  { key: 'maxRequestsPerSocket', flag: 'max-requests-per-connection', arg: '<n>', parse: positiveInt, help: 'requests served on one kept-alive connection before it is closed' },
  { key: 'idleSocketTimeoutMs', flag: 'idle-timeout', arg: '<ms>', parse: positiveInt, help: 'a connection with no bytes moving either way for this long is closed' },
  { key: 'stalledResponseMs', flag: 'stalled-response', arg: '<ms>', parse: positiveInt, help: 'a client that reads nothing of a response for this long is cut, and its slot and file handle freed' }
]

/** commander's attribute name of `--PREFIXflag` (`http-max-connections` -> `httpMaxConnections`). */
function attributeOf (prefix: string, flag: string): string {
  return `${prefix}${flag}`.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
}

/**
 * Adds one flag per limit as `--PREFIXname` (e.g. `--http-headers-timeout`)
 * to `cmd`, `what` naming the server in the help and `defaults` giving the
 * documented defaults.
 */
export function addHttpLimitOptions (cmd: Command, prefix: string, what: string, defaults: HttpLimits): Command {
  for (const f of FLAGS) cmd.option(`--${prefix}${f.flag} ${f.arg}`, `${what}: ${f.help} (default: ${String(defaults[f.key])})`, f.parse)
  return cmd
}

/** The limits given on the command line under `prefix` (absent flags are left to the server's defaults). */
export function httpLimitsOf (opts: object, prefix: string): Partial<HttpLimits> {
  const out: Partial<HttpLimits> = {}
  const given = opts as Record<string, unknown>
  for (const f of FLAGS) {
    const v = given[attributeOf(prefix, f.flag)]
    if (typeof v === 'number') out[f.key] = v
  }
  return out
}
