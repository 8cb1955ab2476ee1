// `xdpnet testbed up|down|list`: create, remove and list test beds from the shell. `up` leaves
// the bed in place after the command exits and prints its JSON for scripts.
import { parseGroup, subcommandOf, type Flags, type Group, type Values } from '../args.js';
import { groupUsageOf, printHelp, usageOf } from '../help.js';
import { integerIn, numberIn, positiveNumber } from '../values.js';
import { requireBedPrivileges } from '../privileges.js';
import type { NetemOptions } from '../../testbed/index.js';

const percent = numberIn(0, 100);

const flags = {
  queues: { value: 'N', help: 'queues of each veth end (default 1)', check: integerIn(1, 256) },
  mtu: { value: 'M', help: 'MTU of both ends (default 1500)', check: integerIn(68, 65535) },
  'static-neighbours': {
    help: 'static ARP/ND entries for the engine on the peer (engines that do not answer)',
  },
  loss: { value: 'PCT', help: 'netem: drop PCT% of the frames to the engine', check: percent },
  delay: { value: 'MS', help: 'netem: delay them by MS milliseconds', check: numberIn(0) },
  jitter: { value: 'MS', help: 'netem: vary the delay by up to MS', check: numberIn(0) },
  reorder: { value: 'PCT', help: 'netem: reorder PCT% (needs --delay)', check: percent },
  duplicate: { value: 'PCT', help: 'netem: duplicate PCT%', check: percent },
  rate: { value: 'MBIT', help: 'netem: limit the rate to MBIT Mbit/s', check: positiveNumber },
  limit: { value: 'PACKETS', help: "netem: the queue's length in packets", check: integerIn(1) },
  force: { help: 'also remove beds whose owner process still runs' },
} satisfies Flags;

export const group: Group<typeof flags> = {
  name: 'testbed',
  summary: 'create, remove and list veth + namespace test beds (JSON on stdout)',
  operand: '<up|down|list>',
  noun: 'subcommand',
  flags,
  subcommands: {
    up: {
      summary: 'create a test bed that outlives the command (JSON)',
      takes: [
        'queues',
        'mtu',
        'static-neighbours',
        'loss',
        'delay',
        'jitter',
        'reorder',
        'duplicate',
        'rate',
        'limit',
      ] satisfies (keyof typeof flags)[],
      notes:
        "A bed with a userspace wire (netem's impairments where the kernel has no netem) cannot\n" +
        'outlive its process, so only code makes one: TestBed.up({ wire: true }).\n',
    },
    down: {
      summary: 'remove bed [name], or all persistent and orphaned beds',
      operands: { usage: '[name]', min: 0, max: 1 },
      takes: ['force'] satisfies (keyof typeof flags)[],
    },
    list: { summary: 'list the test beds as JSON', takes: [] },
  },
};

function netemFrom(values: Values<typeof flags>): NetemOptions | undefined {
  const netem: NetemOptions = {
    lossPct: values.loss,
    delayMs: values.delay,
    jitterMs: values.jitter,
    reorderPct: values.reorder,
    duplicatePct: values.duplicate,
    rateMbit: values.rate,
    limit: values.limit,
  };
  const given = Object.entries(netem).filter(([, v]) => v !== undefined);
  return given.length ? (Object.fromEntries(given) as NetemOptions) : undefined;
}

function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

// The test bed module is loaded only by the subcommands that use it, so --help stays quick.
const testBed = async () => (await import('../../testbed/testbed.js')).TestBed;

async function up(values: Values<typeof flags>): Promise<number> {
  requireBedPrivileges('testbed up');
  const TestBed = await testBed();
  const bed = await TestBed.up({
    queues: values.queues ?? 1,
    mtu: values.mtu ?? 1500,
    staticNeighbours: values['static-neighbours'] === true,
    netem: netemFrom(values),
    persist: true,
  });
  print(bed);
  return 0;
}

async function down(name: string | undefined, values: Values<typeof flags>): Promise<number> {
  requireBedPrivileges('testbed down');
  const TestBed = await testBed();
  const force = values.force === true;
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

export async function run(argv: string[]): Promise<number> {
  const { help, subcommand, operands, values } = parseGroup(group, argv);
  if (help) {
    return printHelp(subcommand ? usageOf(subcommandOf(group, subcommand)) : groupUsageOf(group));
  }
  switch (subcommand) {
    case 'up':
      return up(values);
    case 'down':
      return down(operands[0], values);
    default:
      print((await testBed()).list());
      return 0;
  }
}
