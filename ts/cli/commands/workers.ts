// `xdpnet workers [N]`: a running engine's worker count, or a change of it (Engine.resize over
// the control socket). Open connections stay with their worker; a worker that leaves serves
// them until they close, then stops.
import { parseCommand, type Command, type Flags } from '../args.js';
import { printHelp, usageOf } from '../help.js';
import { usageError } from '../usage-error.js';
import { integerIn } from '../values.js';
import { controlRequest } from '../../runtime/control-client.js';
import { controlSocketOf, engineFlags } from './ss.js';

const flags = {
  ...engineFlags,
  json: { help: 'print the answer as JSON' },
} satisfies Flags;

export const command: Command<typeof flags> = {
  name: 'workers',
  summary: "a running engine's worker count, or change it to N",
  operands: { usage: '[N]', min: 0, max: 1 },
  flags,
  notes:
    'Without N: the workers and what each is doing (active, draining, stopped).\n' +
    'With N (1 to the maxWorkers the engine started with): new flows spread over N workers;\n' +
    'open TCP connections (handshakes included) and connected UDP sockets stay with their\n' +
    'worker until they close, and a worker that leaves stops once its flows are gone.\n' +
    'Needs an engine behind the software-RSS dispatcher (run --software-rss on a one-queue\n' +
    'interface; --max-workers to grow past the start count).\n' +
    'Examples: xdpnet workers; xdpnet workers 4 --pid 1234\n',
};

interface WorkersAnswer {
  workers: number;
  maxWorkers?: number;
  states: string[];
  pinned?: number;
}

const countOf = integerIn(1, 255);

function describe(a: WorkersAnswer): string {
  const states = a.states.map((s, w) => `  worker ${w}: ${s}\n`).join('');
  const max = a.maxWorkers === undefined ? '' : ` (max ${a.maxWorkers})`;
  const pinned = a.pinned === undefined ? '' : `, ${a.pinned} open flows pinned to their worker`;
  return `workers: ${a.workers}${max}${pinned}\n${states}`;
}

export async function run(argv: string[]): Promise<number> {
  const { help, values, operands } = parseCommand(command, argv);
  if (help) return printHelp(usageOf(command));
  let count: number | undefined;
  if (operands.length === 1) {
    try {
      count = countOf(operands[0], 'N');
    } catch {
      throw usageError(`N must be a whole number from 1 to 255, got '${operands[0]}'`, 'workers');
    }
  }
  const answer = await controlRequest<WorkersAnswer>(
    controlSocketOf(values),
    'workers',
    30000,
    count === undefined ? {} : { count },
  );
  process.stdout.write(values.json ? `${JSON.stringify(answer)}\n` : describe(answer));
  return 0;
}
