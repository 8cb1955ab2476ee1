// The `xdpnet` command line: `xdpnet <command> [args]`. Each command is a module under
// ts/cli/commands/ exporting its flag table (`command`, or `group` for one with subcommands) and
// `run(argv): Promise<number>` (the exit code). Their heavy parts (engine, test bed, perf modes)
// load only when they run, so help and usage errors are quick and need no addon.
import fs from 'node:fs';
import { subcommandOf, type Command, type Group } from './args.js';
import { columns, synopsisOf } from './help.js';
import { closest } from './suggest.js';
import { isUsageError, usageError } from './usage-error.js';
import * as demo from './commands/demo.js';
import * as run from './commands/run.js';
import * as perf from './commands/perf.js';
import * as testbed from './commands/testbed.js';
import * as ss from './commands/ss.js';
import * as netstat from './commands/netstat.js';
import * as nic from './commands/nic.js';
import * as workers from './commands/workers.js';

interface CommandModule {
  command?: Command;
  group?: Group;
  run(argv: string[]): Promise<number>;
}

/** In the order the top-level help lists them. */
const COMMANDS: Record<string, CommandModule> = {
  demo,
  run,
  perf,
  testbed,
  nic,
  ss,
  netstat,
  workers,
};

const TOP_LEVEL_FLAGS: [string, string][] = [
  ['-h, --help', 'print this help and exit'],
  ['-V, --version', "print xdpnet's version and exit"],
];

function version(): string {
  // dist/ts/cli/main.js and ts/cli/main.ts alike sit three levels below the package root.
  const file = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

/** A group's line per subcommand, or one line with the subcommands in a section of their own. */
function commandRows(name: string, mod: CommandModule): [string, string][] {
  if (mod.command) return [[`${name} ${synopsisOf(mod.command)}`.trimEnd(), mod.command.summary]];
  const group = mod.group!;
  if (group.section) return [[`${name} ${group.operand}`, group.summary]];
  return Object.keys(group.subcommands).map((sub) => {
    const command = subcommandOf(group, sub);
    return [`${command.name} ${synopsisOf(command)}`.trimEnd(), command.summary];
  });
}

function sectionOf(group: Group): string {
  const rows = Object.keys(group.subcommands).map((sub): [string, string] => [
    sub,
    group.subcommands[sub].summary,
  ]);
  return `\n${group.section} (xdpnet ${group.name} ${group.operand} --help for each one's flags):\n${columns(rows)}`;
}

export function usage(): string {
  const rows = Object.entries(COMMANDS).flatMap(([name, mod]) => commandRows(name, mod));
  const sections = Object.values(COMMANDS)
    .map((mod) => (mod.group?.section ? sectionOf(mod.group) : ''))
    .join('');
  return (
    'usage: xdpnet <command> [options]\n' +
    '       xdpnet <command> --help    the flags a command takes\n' +
    '       xdpnet --version\n\n' +
    `commands:\n${columns(rows)}${sections}\noptions:\n${columns(TOP_LEVEL_FLAGS)}`
  );
}

function unknownCommand(name: string): Error {
  if (name.startsWith('-')) {
    const near = closest(name.replace(/^--?/, ''), ['help', 'version']);
    return usageError(`unknown flag '${name}'${near ? `; did you mean --${near}?` : ''}`);
  }
  const near = closest(name, Object.keys(COMMANDS));
  return usageError(`unknown command '${name}'${near ? `; did you mean '${near}'?` : ''}`);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(usage());
    return 2;
  }
  if (name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    process.stdout.write(usage());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  // `xdpnet help perf rxdrop` reads as `xdpnet perf rxdrop --help`.
  if (name === 'help') return main([...rest, '--help']);
  if (!Object.hasOwn(COMMANDS, name)) throw unknownCommand(name);
  return COMMANDS[name].run(rest);
}

function report(err: unknown): number {
  if (isUsageError(err)) {
    const command = ['xdpnet', err.command].filter(Boolean).join(' ');
    process.stderr.write(`${command}: ${err.message}\nRun '${command} --help' for usage.\n`);
    return 2;
  }
  const e = err as { code?: string; message?: string };
  process.stderr.write(`xdpnet: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = report(err);
  },
);
