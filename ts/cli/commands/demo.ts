// `xdpnet demo`: the main job on the built-in test bed. For each loop it sets up a bed, runs the
// engine on it, drives it from the kernel peer, prints the engine's figures beside Node's kernel
// sockets under the same load, and tears the bed down.
import type { ParsedArgs } from '../args.js';
import { numberOption } from '../args.js';
import { runPerf } from '../../../perf/run-perf.js';
import { formatTable } from '../../../perf/harness/perf-result.js';

export async function run(args: ParsedArgs): Promise<number> {
  const seconds = numberOption(args, 'seconds', 3);
  process.stdout.write(
    'xdpnet demo: a veth test bed with the Linux kernel as the peer in its own namespace.\n' +
      'Each run: the kernel peer drives the engine (AF_XDP + TypeScript worker), then Node dgram\n' +
      'on the kernel stack gets the same load for comparison.\n\n',
  );
  for (const mode of ['rxdrop', 'txonly', 'l2fwd', 'udp-echo']) {
    process.stdout.write(`== ${mode} (${seconds} s) ==\n`);
    const result = await runPerf(mode, { seconds, size: 18, rate: 0, batch: 64 });
    process.stdout.write(`${formatTable(result)}\n${JSON.stringify(result)}\n\n`);
  }
  process.stdout.write('demo done: test beds removed.\n');
  return 0;
}
