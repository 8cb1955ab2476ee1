// `xdpnet demo`: the main job on the built-in test bed. For each loop it sets up a bed, runs the
// engine on it, drives it from the kernel peer, prints the engine's figures beside Node's kernel
// sockets under the same load, and tears the bed down.
import { parseCommand, type Command, type Flags } from '../args.js';
import { printHelp, usageOf } from '../help.js';
import { positiveNumber } from '../values.js';
import { ENGINE, requireBedPrivileges } from '../privileges.js';

const MODES = ['rxdrop', 'txonly', 'l2fwd', 'udp-echo'];

const flags = {
  seconds: { value: 'S', help: 'load duration of each mode (default 3)', check: positiveNumber },
} satisfies Flags;

export const command: Command<typeof flags> = {
  name: 'demo',
  summary: `run ${MODES.join(', ')} on test beds, each beside Node`,
  flags,
};

export async function run(argv: string[]): Promise<number> {
  const { help, values } = parseCommand(command, argv);
  if (help) return printHelp(usageOf(command));
  requireBedPrivileges('demo', ENGINE);
  const seconds = values.seconds ?? 3;
  // Loaded only now, so --help needs neither the perf harness nor the addon.
  const { runPerf } = await import('../../../perf/run-perf.js');
  const { formatTable } = await import('../../../perf/harness/perf-result.js');
  process.stdout.write(
    'xdpnet demo: a veth test bed with the Linux kernel as the peer in its own namespace.\n' +
      'Each run: the kernel peer drives the engine (AF_XDP + TypeScript worker), then Node dgram\n' +
      'on the kernel stack gets the same load for comparison.\n\n',
  );
  for (const mode of MODES) {
    process.stdout.write(`== ${mode} (${seconds} s) ==\n`);
    const result = await runPerf(mode, { seconds, size: 18, rate: 0, batch: 64 });
    process.stdout.write(`${formatTable(result)}\n${JSON.stringify(result)}\n\n`);
  }
  process.stdout.write('demo done: test beds removed.\n');
  return 0;
}
