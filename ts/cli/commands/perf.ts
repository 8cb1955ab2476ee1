// `xdpnet perf <mode>`: the perf harness. Prints live progress on stderr, then a table beside the
// baseline and, last, the one JSON line of the README's Perf section on stdout. The modes and the
// options each reads come from perf/mode-catalogue.ts; each mode takes only the flags it reads.
import {
  parseGroup,
  subcommandOf,
  type Flags,
  type Group,
  type Subcommand,
  type Values,
} from '../args.js';
import { groupUsageOf, printHelp, usageOf } from '../help.js';
import { integerIn, ipv4Address, macAddress, numberIn, oneOf, positiveNumber } from '../values.js';
import { usageError } from '../usage-error.js';
import { ENGINE, requireBedPrivileges, requirePrivileges } from '../privileges.js';
import { PERF_MODES, type PerfModeName } from '../../../perf/mode-catalogue.js';
import { BUSY_POLL_FLAG, RSS_FLAG } from './run.js';
import type { PerfOptions } from '../../../perf/modes/common.js';

/** Every flag any mode takes: one per PerfOptions field (FLAG_OF below maps them). */
const flags = {
  seconds: { value: 'S', help: 'load duration (default 5)', check: positiveNumber },
  size: {
    value: 'N',
    help: 'UDP payload bytes (default 18: 60-byte frames)',
    check: integerIn(1, 65507),
  },
  rate: {
    value: 'PPS',
    help: 'offered packets/s, 0 = as fast as possible (default 0)',
    check: integerIn(0),
  },
  batch: { value: 'N', help: 'frames per worker burst (default 64)', check: integerIn(1) },
  bytes: { value: 'N', help: 'bytes to move (default 1073741824: 1 GiB)', check: integerIn(1) },
  count: {
    value: 'N',
    help: 'frames to send, in four passes (default 1000000; the first pass takes at least 25000)',
    check: integerIn(1),
  },
  seed: { value: 'S', help: "the fuzzer's seed (default 1)", check: integerIn(0) },
  iface: { value: 'IF', help: 'run on a real NIC instead of the built-in test bed' },
  queue: { value: 'Q', help: 'the NIC queue (default 0)', check: integerIn(0) },
  'xdp-mode': {
    value: 'M',
    help: 'auto | native | generic',
    check: oneOf('auto', 'native', 'generic'),
  },
  'bind-mode': {
    value: 'M',
    help: 'auto | zerocopy | copy',
    check: oneOf('auto', 'zerocopy', 'copy'),
  },
  'busy-poll': BUSY_POLL_FLAG,
  rss: RSS_FLAG,
  'dst-mac': { value: 'MAC', help: 'on a real NIC: the MAC to send to', check: macAddress },
  'dst-ip': { value: 'IP', help: 'on a real NIC: the IPv4 address to send to', check: ipv4Address },
  'src-ip': { value: 'IP', help: "on a real NIC: the engine's IPv4 address", check: ipv4Address },
  interval: {
    value: 'S',
    help: 'a progress line on stderr every S seconds, in every phase (default 1; 0: none)',
    check: numberIn(0),
  },
  report: { value: 'FILE', help: 'write an HTML report: throughput over time, latency curves' },
  'histogram-dir': {
    value: 'DIR',
    help: 'save the latency histograms (HdrHistogram text) here (default: beside --report)',
  },
  pcap: { value: 'FILE', help: "capture the engine's frames into FILE (pcap, for tshark)" },
  mtu: {
    value: 'M',
    help: 'MTU of the bed and the engine (default 1500; 9000: jumbo frames, AF_XDP multi-buffer)',
    check: integerIn(68, 65535),
  },
} satisfies Flags;

/** The flags of the harness itself, which every mode takes. */
const HARNESS_FLAGS = ['interval', 'report', 'histogram-dir'] as const;

/** The flag of each PerfOptions field: the type makes a field without a flag an error. */
const FLAG_OF: Record<keyof PerfOptions, keyof typeof flags> = {
  seconds: 'seconds',
  size: 'size',
  rate: 'rate',
  batch: 'batch',
  bytes: 'bytes',
  count: 'count',
  seed: 'seed',
  iface: 'iface',
  queue: 'queue',
  xdpMode: 'xdp-mode',
  bindMode: 'bind-mode',
  busyPoll: 'busy-poll',
  rss: 'rss',
  dstMac: 'dst-mac',
  dstIp: 'dst-ip',
  srcIp: 'src-ip',
  interval: 'interval',
  report: 'report',
  histogramDir: 'histogram-dir',
  pcap: 'pcap',
  mtu: 'mtu',
};

const SITE_NOTES = {
  'bed-or-nic': 'Runs on a fresh test bed, removed afterwards, or on a real NIC with --iface.\n',
  bed: 'Runs on a fresh test bed, removed afterwards.\n',
  memory: 'Runs in memory: no test bed, no NIC, no privileges needed.\n',
};

function modeSubcommand(mode: PerfModeName): Subcommand {
  const info = PERF_MODES[mode];
  const txonlyNote =
    mode === 'txonly' ? 'On a real NIC it needs --dst-mac, --dst-ip and --src-ip.\n' : '';
  return {
    summary: info.summary,
    takes: [...info.reads.map((option) => FLAG_OF[option]), ...HARNESS_FLAGS],
    notes: SITE_NOTES[info.site] + txonlyNote,
  };
}

export const group: Group<typeof flags> = {
  name: 'perf',
  summary: "one mode's load on the engine, then on Node's kernel sockets",
  operand: '<mode>',
  noun: 'mode',
  flags,
  subcommands: Object.fromEntries(
    (Object.keys(PERF_MODES) as PerfModeName[]).map((mode) => [mode, modeSubcommand(mode)]),
  ),
  section: 'perf modes',
  notes: 'Progress goes to stderr; stdout gets a table beside the baseline, then one JSON line.\n',
};

function perfOptions(values: Values<typeof flags>): PerfOptions {
  return {
    seconds: values.seconds ?? 5,
    size: values.size ?? 18,
    rate: values.rate ?? 0,
    batch: values.batch ?? 64,
    bytes: values.bytes,
    count: values.count,
    seed: values.seed,
    iface: values.iface,
    queue: values.queue ?? 0,
    xdpMode: values['xdp-mode'],
    bindMode: values['bind-mode'],
    busyPoll: values['busy-poll'],
    rss: values.rss,
    dstMac: values['dst-mac'],
    dstIp: values['dst-ip'],
    srcIp: values['src-ip'],
    interval: values.interval ?? 1,
    report: values.report,
    histogramDir: values['histogram-dir'],
    pcap: values.pcap,
    mtu: values.mtu,
  };
}

/** txonly on a NIC has no bed to take its addresses from. */
function checkTxonlyTarget(mode: PerfModeName, values: Values<typeof flags>): void {
  if (mode !== 'txonly' || values.iface === undefined) return;
  const missing = (['dst-mac', 'dst-ip', 'src-ip'] as const).filter((f) => !values[f]);
  if (missing.length > 0) {
    throw usageError(
      `with --iface it also needs ${missing.map((f) => `--${f}`).join(', ')}`,
      'perf txonly',
    );
  }
}

function requireModePrivileges(mode: PerfModeName, options: PerfOptions): void {
  if (PERF_MODES[mode].site === 'memory') return;
  if (options.iface) requirePrivileges(`perf ${mode}`, ENGINE);
  else requireBedPrivileges(`perf ${mode}`, ENGINE);
}

export async function run(argv: string[]): Promise<number> {
  const { help, subcommand, values } = parseGroup(group, argv);
  if (help) {
    return printHelp(subcommand ? usageOf(subcommandOf(group, subcommand)) : groupUsageOf(group));
  }
  const mode = subcommand as PerfModeName;
  checkTxonlyTarget(mode, values);
  const options = perfOptions(values);
  requireModePrivileges(mode, options);
  // Loaded only now, so --help and usage errors load no mode, harness or addon.
  const { runPerf } = await import('../../../perf/run-perf.js');
  const { formatTable } = await import('../../../perf/harness/perf-result.js');
  const result = await runPerf(mode, options);
  process.stdout.write(`${formatTable(result)}\n${JSON.stringify(result)}\n`);
  return 0;
}
