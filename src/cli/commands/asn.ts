/**
 * `swarmcdn asn ADDRESS...`: the AS number and organisation of addresses,
 * from a prefix table (default: the @ip-location-db/asn v4 + v6 CSVs).
 */
import { type Command, Option } from 'commander'
import { formatIpAddress, parseIpAddress } from '../../core/proximity/ip-address.js'
import { defaultPrefixTablePaths, loadPrefixTableFiles } from '../../client/prefix-table-files.js'
import { collectPrefixTable, PREFIX_TABLE_NAMES_HELP } from '../prefix-table-arg.js'

/** Registers the `asn` command. */
export function registerAsn (program: Command): void {
  program
    .command('asn')
    .description('print the AS number and organisation of IP addresses')
    .argument('<address...>', 'IPv4 or IPv6 addresses')
    .addOption(new Option('--table <file>', `prefix table: ip-location-db CSV or CAIDA pfx2as, ${PREFIX_TABLE_NAMES_HELP} (repeatable; default: the @ip-location-db/asn v4 and v6 CSVs)`).argParser(collectPrefixTable))
    .option('--json', 'one JSON object per line')
    .addHelpText('after', `
Example:
  $ swarmcdn asn 8.8.8.8 2606:4700:4700::1111
  8.8.8.8\tAS15169\tGoogle LLC
  2606:4700:4700::1111\tAS13335\tCloudflare, Inc.
  $ swarmcdn asn 127.1.0.1 --table loopback
  127.1.0.1\tAS64601\tLoopback Net A
`)
    .action((addresses: string[], opts: { table?: string[], json?: boolean }) => {
      // Validate every address before the (slow) table load.
      const parsed = addresses.map((text) => parseIpAddress(text))
      const table = loadPrefixTableFiles(opts.table ?? defaultPrefixTablePaths())
      const out: string[] = []
      parsed.forEach((address, i) => {
        const record = table.lookup(address)
        if (opts.json === true) {
          out.push(JSON.stringify(record === undefined
            ? { address: addresses[i], asn: null, org: null, range: null }
            : { address: addresses[i], asn: record.asn, org: record.org, range: `${formatIpAddress(record.first)}-${formatIpAddress(record.last)}` }))
        } else {
          out.push(record === undefined
            ? `${addresses[i]}\t-\tnot in table`
            : `${addresses[i]}\tAS${record.asn}\t${record.org}`)
        }
      })
      process.stdout.write(out.join('\n') + '\n')
    })
}
