// `xdpnet ss`: the sockets of a running engine, one line each, like `ss -tuanpo` (state, queues,
// local and peer address, owning worker, timer). Asks the engine over its control socket.
import { parseCommand, type Command, type Flags, type Values } from '../args.js';
import { printHelp, usageOf } from '../help.js';
import { integerIn } from '../values.js';
import { usageError } from '../usage-error.js';
import { controlRequest, findControlSocket } from '../../runtime/control-client.js';
import { formatEndpoint, type SocketEntry, type SocketTimer } from '../../runtime/socket-report.js';

/** How to reach the engine: ss and netstat take these. */
export const engineFlags = {
  pid: {
    value: 'P',
    help: 'the engine of process P (default: the only running engine)',
    check: integerIn(1),
  },
  socket: { value: 'PATH', help: "the engine's control socket" },
} satisfies Flags;

/** The control socket named by --socket / --pid, or the only running engine's. */
export function controlSocketOf(values: Values<typeof engineFlags>): string {
  return findControlSocket({ pid: values.pid, socket: values.socket });
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

/** --state's value: socket states in any spelling, as ss's column names. */
function socketStates(raw: string, flag: string): string[] {
  const states = raw.split(',').map(normalizeState);
  const bad = states.filter((s) => !KNOWN_STATES.has(s));
  if (bad.length > 0) {
    throw usageError(
      `--${flag}: unknown state ${bad.join(', ')}: use one of ${[...KNOWN_STATES].join(', ')}`,
    );
  }
  return states;
}

const flags = {
  ...engineFlags,
  tcp: { short: 't', help: 'TCP sockets only (default: TCP and UDP)' },
  udp: { short: 'u', help: 'UDP sockets only' },
  state: {
    value: 'S',
    help: 'only sockets in state S (listen, established, time-wait, syn-recv, ...;\ncommas for several)',
    check: socketStates,
  },
  port: { value: 'N', help: 'only sockets with local or peer port N', check: integerIn(0, 65535) },
  json: { help: 'print the sockets as a JSON array' },
} satisfies Flags;

export const command: Command<typeof flags> = {
  name: 'ss',
  summary: 'the sockets of a running engine, like ss -tuanpo',
  flags,
};

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

function filterOf(values: Values<typeof flags>): SocketFilter {
  const f: SocketFilter = { states: values.state, port: values.port };
  if (values.tcp !== values.udp) f.proto = values.tcp ? 'tcp' : 'udp';
  return f;
}

export async function run(argv: string[]): Promise<number> {
  const { help, values } = parseCommand(command, argv);
  if (help) return printHelp(usageOf(command));
  const list = await controlRequest<SocketEntry[]>(controlSocketOf(values), 'sockets');
  const shown = filterSockets(list, filterOf(values));
  process.stdout.write(values.json ? `${JSON.stringify(shown)}\n` : formatSockets(shown));
  return 0;
}
