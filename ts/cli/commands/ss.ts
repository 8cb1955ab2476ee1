// `xdpnet ss`: the sockets of a running engine, one line each, like `ss -tuanpo` (state, queues,
// local and peer address, owning worker, timer). Asks the engine over its control socket.
import { numberOption, stringOption, type ParsedArgs } from '../args.js';
import { controlRequest, findControlSocket } from '../../runtime/control-client.js';
import { formatEndpoint, type SocketEntry, type SocketTimer } from '../../runtime/socket-report.js';

const usage = `usage: xdpnet ss [options]
  --pid P           the engine of process P (default: the only running engine)
  --socket PATH     the engine's control socket
  -t | -u           TCP or UDP sockets only (default: both)
  --state S         only sockets in state S (listen, established, time-wait, syn-recv, ...;
                    commas for several)
  --port N          only sockets with local or peer port N
  --json            print the sockets as a JSON array
`;

/**
 * `--json -t` reads as --json with the value '-t': give one-letter flags that an option took as
 * its value back to the positionals, so flags work in any order.
 */
export function shortFlagsBack(args: ParsedArgs): ParsedArgs {
  for (const [k, v] of Object.entries(args.options)) {
    if (typeof v === 'string' && /^-[a-z]$/.test(v)) {
      args.options[k] = true;
      args.positionals.push(v);
    }
  }
  return args;
}

/** The control socket named by --socket / --pid, or the only running engine's. */
export function controlSocketOf(args: ParsedArgs): string {
  const pid = args.options.pid === undefined ? undefined : numberOption(args, 'pid', 0);
  return findControlSocket({ pid, socket: stringOption(args, 'socket') });
}

// Long names and Linux's alternative spellings, to ss's column names.
const STATE_ALIASES: Record<string, string> = {
  ESTABLISHED: 'ESTAB',
  LISTENING: 'LISTEN',
  'SYN-RECEIVED': 'SYN-RECV',
  'CLOSE-WAIT': 'CLOSE-WAIT',
};

export function normalizeState(s: string): string {
  const up = s.trim().toUpperCase().replace(/_/g, '-');
  return STATE_ALIASES[up] ?? up;
}

const KNOWN_STATES = new Set([
  'LISTEN',
  'ESTAB',
  'SYN-SENT',
  'SYN-RECV',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'CLOSE-WAIT',
  'CLOSING',
  'LAST-ACK',
  'TIME-WAIT',
  'UNCONN',
]);

export interface SocketFilter {
  proto?: 'tcp' | 'udp';
  states?: string[];
  port?: number;
}

export function filterSockets(list: SocketEntry[], f: SocketFilter): SocketEntry[] {
  return list.filter(
    (e) =>
      (f.proto === undefined || e.proto === f.proto) &&
      (f.states === undefined || f.states.includes(e.state)) &&
      (f.port === undefined || e.localPort === f.port || e.peerPort === f.port),
  );
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.round(ms / 60_000)}min`;
}

export function formatTimer(t: SocketTimer | null): string {
  return t ? `timer:(${t.kind},${duration(t.ms)},${t.retransmits})` : '';
}

/** The table: a header and one line per socket, columns as wide as their widest cell. */
export function formatSockets(list: SocketEntry[]): string {
  const rows = [
    ['Netid', 'State', 'Recv-Q', 'Send-Q', 'Local Address:Port', 'Peer Address:Port', 'Process'],
  ];
  for (const e of list) {
    rows.push([
      e.proto,
      e.state,
      String(e.recvQ),
      String(e.sendQ),
      formatEndpoint(e.localAddress, e.localPort),
      formatEndpoint(e.peerAddress, e.peerPort),
      `worker:${e.worker} ${formatTimer(e.timer)}`.trimEnd(),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join(' '))
    .map((line) => line.trimEnd())
    .join('\n')
    .concat('\n');
}

function filterOf(args: ParsedArgs): SocketFilter {
  const flags = new Set(args.positionals);
  const tcp = flags.has('-t') || args.options.tcp === true;
  const udp = flags.has('-u') || args.options.udp === true;
  const f: SocketFilter = {};
  if (tcp !== udp) f.proto = tcp ? 'tcp' : 'udp';
  const state = stringOption(args, 'state');
  if (state !== undefined) {
    f.states = state.split(',').map(normalizeState);
    const bad = f.states.filter((s) => !KNOWN_STATES.has(s));
    if (bad.length > 0) {
      throw Object.assign(
        new Error(`unknown state ${bad.join(', ')}: use one of ${[...KNOWN_STATES].join(', ')}`),
        { code: 'EINVAL' },
      );
    }
  }
  if (args.options.port !== undefined) f.port = numberOption(args, 'port', 0);
  return f;
}

export async function run(parsed: ParsedArgs): Promise<number> {
  const args = shortFlagsBack(parsed);
  if (args.options.help) {
    process.stdout.write(usage);
    return 0;
  }
  const unknown = args.positionals.filter((p) => p !== '-t' && p !== '-u');
  if (unknown.length > 0) {
    process.stderr.write(`xdpnet ss: unexpected argument '${unknown[0]}'\n${usage}`);
    return 2;
  }
  const filter = filterOf(args);
  const list = await controlRequest<SocketEntry[]>(controlSocketOf(args), 'sockets');
  const shown = filterSockets(list, filter);
  process.stdout.write(args.options.json ? `${JSON.stringify(shown)}\n` : formatSockets(shown));
  return 0;
}
