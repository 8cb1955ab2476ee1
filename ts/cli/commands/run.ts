// `xdpnet run <app-module>`: starts the engine on an interface (a fresh test bed's by default) and
// loads the app module in every worker; runs until SIGINT or SIGTERM (or --seconds), then prints
// the counters, stops (open connections get their FIN) and removes what it set up. Stopped by a
// signal, it exits with 128 + the signal's number (runtime/signals.ts); a second signal forces it.
import path from 'node:path';
import { parseCommand, type Command, type Flags, type Values } from '../args.js';
import { printHelp, usageOf } from '../help.js';
import {
  addressList,
  integerIn,
  ipv4Address,
  ipv6Address,
  metricsAddress,
  numberIn,
} from '../values.js';
import { ENGINE, requireBedPrivileges, requirePrivileges } from '../privileges.js';
import type { EngineOptions } from '../../runtime/engine.js';
import type { BindingFacts } from '../../dev/xdp/xdp-binding.js';
import type { TestBed } from '../../testbed/testbed.js';
import { onGracefulStop, signalExitCode } from '../../runtime/signals.js';
import { BUSY_POLL_DEFAULTS } from '../../dev/xdp/busy-poll.js';
import { oneOf } from '../values.js';

/** `--busy-poll [USECS]`: run and perf take it. */
export const BUSY_POLL_FLAG = {
  value: 'USECS',
  implied: String(BUSY_POLL_DEFAULTS.usecs),
  help:
    `busy-poll the AF_XDP sockets: SO_PREFER_BUSY_POLL, SO_BUSY_POLL USECS (default ` +
    `${BUSY_POLL_DEFAULTS.usecs}), SO_BUSY_POLL_BUDGET ${BUSY_POLL_DEFAULTS.budget}, and the ` +
    `device's napi_defer_hard_irqs ${BUSY_POLL_DEFAULTS.deferHardIrqs} and gro_flush_timeout ` +
    `${BUSY_POLL_DEFAULTS.groFlushTimeoutNs} ns, put back on exit`,
  check: integerIn(1, 1_000_000),
} as const;

/** `--rss program|follow|software`: run and perf take it (EngineOptions.rss). */
export const RSS_FLAG = {
  value: 'MODE',
  help:
    "how flow ownership meets the NIC's RSS: follow (the NIC's key and table), program (write " +
    "the engine's to the NIC, put back on exit) or software (steer between workers); default " +
    'follow where the NIC reports its key and table, else software',
  check: oneOf('program', 'follow', 'software'),
} as const;

const flags = {
  iface: { value: 'IF', help: 'interface (default: a new test bed, removed on exit)' },
  ip: {
    value: 'CIDR',
    help: 'IPv4 address with prefix, e.g. 198.18.0.1/24 (commas for several)',
    check: addressList(4),
  },
  ip6: {
    value: 'CIDR',
    help: 'IPv6 address with prefix, e.g. 2001:2::1/64 (commas for several)',
    check: addressList(6),
  },
  gateway: { value: 'IP', help: 'IPv4 default gateway', check: ipv4Address },
  gateway6: { value: 'IP', help: 'IPv6 default gateway', check: ipv6Address },
  workers: {
    value: 'N',
    help: "stack workers (default: the interface's queue count)",
    check: integerIn(1),
  },
  'software-rss': { help: 'spread the queue(s) over the CPUs with the software-RSS dispatcher' },
  'max-workers': {
    value: 'N',
    help: 'the most workers `xdpnet workers N` may grow to while running (default --workers)',
    check: integerIn(1, 255),
  },
  seconds: {
    value: 'S',
    help: 'stop after S seconds (default, or 0: run until SIGINT/SIGTERM)',
    check: numberIn(0),
  },
  'busy-poll': BUSY_POLL_FLAG,
  rss: RSS_FLAG,
  mtu: {
    value: 'M',
    help: "the engine's MTU, and a new test bed's (default 1500; 9000: jumbo frames)",
    check: integerIn(68, 65535),
  },
  metrics: {
    value: 'HOST:PORT',
    help: 'serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 127.0.0.1:9464 (port 0: any)',
    check: metricsAddress,
  },
  pcap: { value: 'FILE', help: 'capture every frame the workers receive and send into FILE' },
} satisfies Flags;

export const command: Command<typeof flags> = {
  name: 'run',
  summary: 'start the engine and load the app module in every worker',
  operands: { usage: '<app-module>', min: 1, max: 1 },
  flags,
};

function engineOptions(app: string, values: Values<typeof flags>, bed?: TestBed): EngineOptions {
  return {
    ifname: values.iface ?? bed!.engineIf,
    app: path.resolve(app),
    ipv4: values.ip ?? (bed ? [`${bed.engineIpv4}/${bed.ipv4Prefix}`] : []),
    ipv6: values.ip6 ?? (bed ? [`${bed.engineIpv6}/${bed.ipv6Prefix}`] : []),
    ipv4Gateway: values.gateway,
    ipv6Gateway: values.gateway6,
    workers: values.workers,
    softwareRss: values['software-rss'] === true,
    maxWorkers: values['max-workers'],
    busyPoll: values['busy-poll'],
    rss: values.rss,
    mtu: values.mtu,
    metrics: values.metrics,
    pcap: values.pcap,
    // This command stops the engine itself, after printing its counters.
    handleSignals: false,
  };
}

/** "native XDP, copy mode (why), busy polling 20 µs" for the start line. */
function xdpSummary(xdp: BindingFacts): string {
  const busy = xdp.busyPoll
    ? `, busy polling ${xdp.busyPoll.usecs} µs${xdp.busyPoll.notes.length ? ` (${xdp.busyPoll.notes.join('; ')})` : ''}`
    : '';
  const bind = xdp.zeroCopy ? 'zero-copy' : 'copy mode';
  const mb = xdp.multiBuffer ? ', multi-buffer frames' : '';
  return `${xdp.xdpMode} XDP, ${bind} (${xdp.bindModeWhy})${mb}${busy}`;
}

export async function run(argv: string[]): Promise<number> {
  const { help, operands, values } = parseCommand(command, argv);
  if (help) return printHelp(usageOf(command));
  const [app] = operands;
  const ifname = values.iface;
  if (ifname) requirePrivileges('run', ENGINE);
  else requireBedPrivileges('run', ENGINE);
  // Loaded only now, so --help and usage errors need neither the addon nor the test bed.
  const { Engine } = await import('../../runtime/engine.js');
  const { TestBed } = await import('../../testbed/testbed.js');
  let signal: NodeJS.Signals | undefined;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  let wake: (() => void) | undefined;
  // Registered before anything starts, so it runs after the engine's own stop would (newest
  // first): a signal here wakes the wait below and lets this function stop everything in order.
  const unregister = onGracefulStop(async (s) => {
    signal = s;
    wake?.();
    await done;
  });
  const bed: TestBed | undefined = ifname ? undefined : await TestBed.up({ mtu: values.mtu });
  try {
    const opts = engineOptions(app, values, bed);
    const engine = await Engine.start(opts);
    try {
      process.stderr.write(
        `xdpnet: ${app} running on ${opts.ifname} (${opts.ipv4?.join(', ')} ${opts.ipv6?.join(', ')}), ` +
          `${engine.workers} worker(s), ${engine.mode}, ${xdpSummary(engine.xdp)}, ` +
          `RSS ${engine.rss.mode} (${engine.rss.why})` +
          (engine.metricsUrl ? `; metrics at ${engine.metricsUrl}` : '') +
          (bed
            ? `; kernel peer in namespace ${bed.netns} at ${bed.peerIpv4}, ${bed.peerIpv6}`
            : '') +
          '\n',
      );
      if (bed) process.stdout.write(`${JSON.stringify(bed.toJSON())}\n`);
      await new Promise<void>((resolve) => {
        if (signal) return resolve();
        wake = resolve;
        const seconds = values.seconds ?? 0;
        if (seconds > 0) setTimeout(resolve, seconds * 1000).unref();
      });
      process.stderr.write(
        `xdpnet: stopping${signal ? ` (${signal})` : ''}\n${JSON.stringify(await engine.stats())}\n`,
      );
    } finally {
      await engine.stop();
    }
    return signal ? signalExitCode(signal) : 0;
  } finally {
    await bed?.down();
    unregister();
    stopped();
  }
}
