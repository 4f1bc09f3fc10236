/**
 * `--metrics HOST:PORT` of `seed` and `peer`: serve Prometheus metrics on
 * `http://HOST:PORT/metrics` (default off). Kept in its own module so the
 * commands gain it with one line each.
 */
import type { Command } from 'commander'
import { parseHostPort } from './parse-options.js'

/** The parsed option. */
export interface MetricsCliOptions {
  metrics?: { host: string, port: number }
}

/** Adds `--metrics HOST:PORT` to `cmd`. */
export function addMetricsOption (cmd: Command): Command {
  return cmd.option('--metrics <host:port>', 'serve Prometheus metrics on http://HOST:PORT/metrics (e.g. 127.0.0.1:9464; port 0 picks one; default off)', parseHostPort)
}

/** The line a command prints once the endpoint listens. */
export function metricsLine (url: string | undefined): string | undefined {
  return url == null ? undefined : `metrics on ${url}`
}
