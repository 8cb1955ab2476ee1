// `xdpnet testbed up|down|list`: create, remove and list test beds from the shell. `up` leaves
// the bed in place after the command exits and prints its JSON for scripts.
import { type ParsedArgs, numberOption } from '../args.js';
import { type NetemOptions, TestBed } from '../../testbed/index.js';

const USAGE = `usage:
  xdpnet testbed up [--queues N] [--mtu M] [--static-neighbours]
                    [--loss PCT] [--delay MS] [--jitter MS] [--reorder PCT]
                    [--duplicate PCT] [--rate MBIT] [--limit PACKETS]
  xdpnet testbed down [name] [--force]   remove one bed, or every bed whose owner is gone
  xdpnet testbed list
`;

const BOOLEAN_FLAGS = ['static-neighbours', 'force'];

/** The parser gives a bare flag the next word as its value; hand such words back. */
function normalise(args: ParsedArgs): ParsedArgs {
  const positionals = [...args.positionals];
  const options = { ...args.options };
  for (const flag of BOOLEAN_FLAGS) {
    const v = options[flag];
    if (typeof v === 'string') {
      positionals.push(v);
      options[flag] = true;
    }
  }
  return { positionals, options };
}

function optionalNumber(args: ParsedArgs, name: string): number | undefined {
  return args.options[name] === undefined ? undefined : numberOption(args, name, 0);
}

function netemFrom(args: ParsedArgs): NetemOptions | undefined {
  const netem: NetemOptions = {
    lossPct: optionalNumber(args, 'loss'),
    delayMs: optionalNumber(args, 'delay'),
    jitterMs: optionalNumber(args, 'jitter'),
    reorderPct: optionalNumber(args, 'reorder'),
    duplicatePct: optionalNumber(args, 'duplicate'),
    rateMbit: optionalNumber(args, 'rate'),
    limit: optionalNumber(args, 'limit'),
  };
  const given = Object.entries(netem).filter(([, v]) => v !== undefined);
  return given.length ? (Object.fromEntries(given) as NetemOptions) : undefined;
}

function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

async function up(args: ParsedArgs): Promise<number> {
  const bed = await TestBed.up({
    queues: numberOption(args, 'queues', 1),
    mtu: numberOption(args, 'mtu', 1500),
    staticNeighbours: args.options['static-neighbours'] === true,
    netem: netemFrom(args),
    persist: true,
  });
  print(bed);
  return 0;
}

async function down(args: ParsedArgs): Promise<number> {
  const force = args.options.force === true;
  const [name] = args.positionals;
  if (name) {
    print({ removed: [await TestBed.downByName(name, { force })] });
    return 0;
  }
  const removed = await TestBed.reapStale();
  const skipped = [];
  for (const bed of TestBed.list()) {
    if (bed.persist || force) removed.push(await TestBed.downByName(bed.name, { force }));
    else skipped.push({ name: bed.name, pid: bed.pid, reason: 'owner process is running' });
  }
  print({ removed, skipped });
  return 0;
}

export async function run(rawArgs: ParsedArgs): Promise<number> {
  const args = normalise(rawArgs);
  const [sub, ...rest] = args.positionals;
  const subArgs = { positionals: rest, options: args.options };
  switch (sub) {
    case 'up':
      return up(subArgs);
    case 'down':
      return down(subArgs);
    case 'list':
      print(TestBed.list());
      return 0;
    default:
      process.stderr.write(USAGE);
      return sub === 'help' ? 0 : 2;
  }
}
