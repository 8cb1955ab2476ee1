// `xdpnet netstat -s`: a running engine's protocol counters, summed over its workers (and per
// worker with --per-worker), in netstat's Ip / Icmp / Tcp / TcpExt / Udp sections plus Device.
import type { ParsedArgs } from '../args.js';
import { controlRequest } from '../../runtime/control-client.js';
import {
  counterSections,
  netstatCounters,
  sumCounters,
  type NetstatCounters,
} from '../../runtime/control-counters.js';
import type { StackWorkerStats } from '../../runtime/stack-config.js';
import { controlSocketOf, shortFlagsBack } from './ss.js';

const usage = `usage: xdpnet netstat -s [options]
  --pid P           the engine of process P (default: the only running engine)
  --socket PATH     the engine's control socket
  --per-worker      also print each worker's counters
  --json            print {"total": {...}, "workers": [{"worker", ...}]} as JSON
`;

export function formatCounters(c: NetstatCounters, indent = ''): string {
  let out = '';
  for (const sec of counterSections()) {
    out += `${indent}${sec}:\n`;
    for (const [k, v] of Object.entries(c[sec])) out += `${indent}    ${k}: ${v}\n`;
  }
  return out;
}

export async function run(parsed: ParsedArgs): Promise<number> {
  const args = shortFlagsBack(parsed);
  if (args.options.help) {
    process.stdout.write(usage);
    return 0;
  }
  const unknown = args.positionals.filter((p) => p !== '-s');
  if (unknown.length > 0 || !args.positionals.includes('-s')) {
    process.stderr.write(
      unknown.length > 0 ? `xdpnet netstat: unexpected argument '${unknown[0]}'\n${usage}` : usage,
    );
    return 2;
  }
  const stats = await controlRequest<StackWorkerStats[]>(controlSocketOf(args), 'stats');
  const workers = stats.map((s) => ({ worker: s.workerId, ...netstatCounters(s) }));
  const total = sumCounters(workers);
  if (args.options.json) {
    process.stdout.write(`${JSON.stringify({ total, workers })}\n`);
    return 0;
  }
  let out = formatCounters(total);
  if (args.options['per-worker']) {
    for (const w of workers) out += `\nWorker ${w.worker}:\n${formatCounters(w, '    ')}`;
  }
  process.stdout.write(out);
  return 0;
}
