// `xdpnet netstat -s`: a running engine's protocol counters, summed over its workers (and per
// worker with --per-worker), in netstat's Ip / Icmp / Tcp / TcpExt / Udp sections plus Device.
import { parseCommand, type Command, type Flags } from '../args.js';
import { printHelp, usageOf } from '../help.js';
import { usageError } from '../usage-error.js';
import { controlRequest } from '../../runtime/control-client.js';
import {
  counterSections,
  netstatCounters,
  sumCounters,
  type NetstatCounters,
} from '../../runtime/control-counters.js';
import type { StackWorkerStats } from '../../runtime/stack-config.js';
import { controlSocketOf, engineFlags } from './ss.js';

const flags = {
  statistics: { short: 's', help: 'the protocol counters (the only report there is; required)' },
  ...engineFlags,
  'per-worker': { help: "also print each worker's counters" },
  json: { help: 'print {"total": {...}, "workers": [{"worker", ...}]} as JSON' },
} satisfies Flags;

export const command: Command<typeof flags> = {
  name: 'netstat',
  summary: 'the protocol counters of a running engine',
  synopsis: '-s',
  flags,
};

export function formatCounters(c: NetstatCounters, indent = ''): string {
  let out = '';
  for (const sec of counterSections()) {
    out += `${indent}${sec}:\n`;
    for (const [k, v] of Object.entries(c[sec])) out += `${indent}    ${k}: ${v}\n`;
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const { help, values } = parseCommand(command, argv);
  if (help) return printHelp(usageOf(command));
  // Like netstat(8), whose other reports (connections, routes) xdpnet has as ss or not at all.
  if (!values.statistics) throw usageError('-s is required', command.name);
  const stats = await controlRequest<StackWorkerStats[]>(controlSocketOf(values), 'stats');
  const workers = stats.map((s) => ({ worker: s.workerId, ...netstatCounters(s) }));
  const total = sumCounters(workers);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ total, workers })}\n`);
    return 0;
  }
  let out = formatCounters(total);
  if (values['per-worker']) {
    for (const w of workers) out += `\nWorker ${w.worker}:\n${formatCounters(w, '    ')}`;
  }
  process.stdout.write(out);
  return 0;
}
