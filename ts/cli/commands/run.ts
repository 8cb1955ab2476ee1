// `xdpnet run <app-module>`: starts the engine on an interface (a fresh test bed's by default) and
// loads the app module in every worker; runs until SIGINT or SIGTERM (or --seconds), then prints
// the counters, stops (open connections get their FIN) and removes what it set up. Stopped by a
// signal, it exits with 128 + the signal's number (runtime/signals.ts); a second signal forces it.
import path from 'node:path';
import { numberOption, stringOption, type ParsedArgs } from '../args.js';
import { Engine, type EngineOptions } from '../../runtime/engine.js';
import { TestBed } from '../../testbed/testbed.js';
import { onGracefulStop, signalExitCode } from '../../runtime/signals.js';

const usage = `usage: xdpnet run <app-module> [options]
  --iface IF        interface (default: a new test bed, removed on exit)
  --ip CIDR         IPv4 address with prefix, e.g. 198.18.0.1/24 (repeat with commas)
  --ip6 CIDR        IPv6 address with prefix, e.g. 2001:2::1/64
  --gateway IP      IPv4 default gateway;  --gateway6 IP  IPv6 default gateway
  --workers N       stack workers (default: the interface's queue count)
  --software-rss    spread the queue(s) over the CPUs with the software-RSS dispatcher
  --seconds S       stop after S seconds (default: run until SIGINT/SIGTERM)
  --metrics H:P     serve Prometheus metrics at http://H:P/metrics (e.g. 127.0.0.1:9464)
  --pcap FILE       capture every frame the workers receive and send into FILE
`;

function list(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').filter(Boolean);
}

export async function run(args: ParsedArgs): Promise<number> {
  const app = args.positionals[0];
  if (!app || args.options.help) {
    process.stdout.write(usage);
    return app ? 0 : 2;
  }
  const ifname = stringOption(args, 'iface');
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
  const bed = ifname ? undefined : await TestBed.up();
  try {
    const opts: EngineOptions = {
      ifname: ifname ?? bed!.engineIf,
      app: path.resolve(app),
      ipv4: list(stringOption(args, 'ip')) ?? (bed ? [`${bed.engineIpv4}/${bed.ipv4Prefix}`] : []),
      ipv6: list(stringOption(args, 'ip6')) ?? (bed ? [`${bed.engineIpv6}/${bed.ipv6Prefix}`] : []),
      ipv4Gateway: stringOption(args, 'gateway'),
      ipv6Gateway: stringOption(args, 'gateway6'),
      workers: args.options.workers === undefined ? undefined : numberOption(args, 'workers', 1),
      softwareRss: args.options['software-rss'] === true,
      metrics: stringOption(args, 'metrics'),
      pcap: stringOption(args, 'pcap'),
      // This command stops the engine itself, after printing its counters.
      handleSignals: false,
    };
    const engine = await Engine.start(opts);
    try {
      process.stderr.write(
        `xdpnet: ${app} running on ${opts.ifname} (${opts.ipv4?.join(', ')} ${opts.ipv6?.join(', ')}), ` +
          `${engine.workers} worker(s), ${engine.mode}` +
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
        const seconds = args.options.seconds === undefined ? 0 : numberOption(args, 'seconds', 0);
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
