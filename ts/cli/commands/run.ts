// `xdpnet run <app-module>`: starts the engine on an interface (a fresh test bed's by default) and
// loads the app module in every worker; runs until SIGINT or SIGTERM (or --seconds), then stops
// and removes what it set up.
import path from 'node:path';
import { numberOption, stringOption, type ParsedArgs } from '../args.js';
import { Engine, type EngineOptions } from '../../runtime/engine.js';
import { TestBed } from '../../testbed/testbed.js';

const usage = `usage: xdpnet run <app-module> [options]
  --iface IF        interface (default: a new test bed, removed on exit)
  --ip CIDR         IPv4 address with prefix, e.g. 198.18.0.1/24 (repeat with commas)
  --ip6 CIDR        IPv6 address with prefix, e.g. 2001:2::1/64
  --gateway IP      IPv4 default gateway;  --gateway6 IP  IPv6 default gateway
  --workers N       stack workers (default: the interface's queue count)
  --software-rss    spread the queue(s) over the CPUs with the software-RSS dispatcher
  --seconds S       stop after S seconds (default: run until SIGINT/SIGTERM)
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
    };
    const engine = await Engine.start(opts);
    process.stderr.write(
      `xdpnet: ${app} running on ${opts.ifname} (${opts.ipv4?.join(', ')} ${opts.ipv6?.join(', ')}), ` +
        `${engine.workers} worker(s), ${engine.mode}` +
        (bed ? `; kernel peer in namespace ${bed.netns} at ${bed.peerIpv4}, ${bed.peerIpv6}` : '') +
        '\n',
    );
    if (bed) process.stdout.write(`${JSON.stringify(bed.toJSON())}\n`);
    await new Promise<void>((resolve) => {
      const seconds = args.options.seconds === undefined ? 0 : numberOption(args, 'seconds', 0);
      if (seconds > 0) setTimeout(resolve, seconds * 1000);
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    process.stderr.write(`xdpnet: stopping\n${JSON.stringify(await engine.stats())}\n`);
    await engine.stop();
    return 0;
  } finally {
    await bed?.down();
  }
}
