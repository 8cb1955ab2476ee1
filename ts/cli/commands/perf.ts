// `xdpnet perf <mode>`: the perf harness. Prints live progress on stderr, then a table beside the
// baseline and, last, the one JSON line of shared/design.md on stdout.
import { numberOption, stringOption, type ParsedArgs } from '../args.js';
import { runPerf, perfModes } from '../../../perf/run-perf.js';
import { formatTable } from '../../../perf/harness/perf-result.js';
import type { PerfOptions } from '../../../perf/modes/common.js';

const usage = `usage: xdpnet perf <${Object.keys(perfModes).join('|')}> [options]
  --seconds S       load duration (default 5)
  --size N          UDP payload bytes (default 18: 60-byte frames)
  --rate PPS        offered packets/s, 0 = as fast as possible (default 0)
  --bytes N         mem-tcp-stream: bytes to move (default 1073741824: 1 GiB)
  --iface IF        run on a real NIC instead of the built-in test bed
  --queue Q         the NIC queue (default 0)
  --xdp-mode M      auto | native | generic
  --bind-mode M     auto | zerocopy | copy
  --dst-mac, --dst-ip, --src-ip   txonly on a real NIC: where to send from and to
  --pcap FILE       capture the engine's frames into FILE (stack modes, rxdrop, l2fwd)
`;

export async function run(args: ParsedArgs): Promise<number> {
  const mode = args.positionals[0];
  if (!mode || args.options.help) {
    process.stdout.write(usage);
    return mode ? 0 : 2;
  }
  const options: PerfOptions = {
    seconds: numberOption(args, 'seconds', 5),
    size: numberOption(args, 'size', 18),
    rate: numberOption(args, 'rate', 0),
    batch: numberOption(args, 'batch', 64),
    bytes: args.options.bytes === undefined ? undefined : numberOption(args, 'bytes', 0),
    iface: stringOption(args, 'iface'),
    queue: numberOption(args, 'queue', 0),
    xdpMode: stringOption(args, 'xdp-mode') as PerfOptions['xdpMode'],
    bindMode: stringOption(args, 'bind-mode') as PerfOptions['bindMode'],
    dstMac: stringOption(args, 'dst-mac'),
    dstIp: stringOption(args, 'dst-ip'),
    srcIp: stringOption(args, 'src-ip'),
    pcap: stringOption(args, 'pcap'),
  };
  const result = await runPerf(mode, options);
  process.stdout.write(`${formatTable(result)}\n${JSON.stringify(result)}\n`);
  return 0;
}
