// The help text of commands and groups, made from the same flag tables the parser uses
// (args.ts), so a flag cannot be accepted without being listed or listed without being accepted.
import {
  HELP_FLAG,
  subcommandOf,
  type Command,
  type Flag,
  type Flags,
  type Group,
} from './args.js';

/** Two columns, the first as wide as its widest cell; further lines of a cell stay indented. */
export function columns(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const indent = ' '.repeat(2 + width);
  return rows
    .map(([left, right]) => `  ${left.padEnd(width)}${right.split('\n').join(`\n${indent}`)}`)
    .join('\n')
    .concat('\n');
}

/** ' S' for a flag's value, ' [USECS]' for one it may go without. */
function valueUsage(f: Flag): string {
  if (!f.value) return '';
  return f.implied === undefined ? ` ${f.value}` : ` [${f.value}]`;
}

function flagRows(flags: Flags): [string, string][] {
  return Object.entries({ ...flags, help: HELP_FLAG }).map(([name, f]) => [
    `${f.short ? `-${f.short}, ` : '    '}--${name}${valueUsage(f)}`,
    f.help,
  ]);
}

/** What follows `xdpnet <name>` in the command's usage line and top-level help. */
export function synopsisOf(command: Command): string {
  return command.synopsis ?? command.operands?.usage ?? '';
}

/** The help of one command: usage line, summary, every flag it takes. */
export function usageOf(command: Command): string {
  const line = ['xdpnet', command.name, synopsisOf(command), '[options]'].filter(Boolean);
  const notes = command.notes ? `\n${command.notes}` : '';
  return (
    `usage: ${line.join(' ')}\n\n${command.summary}\n\noptions:\n` +
    columns(flagRows(command.flags)) +
    notes
  );
}

/** The help of a group: its subcommands, and every flag any of them takes. */
export function groupUsageOf(group: Group): string {
  const rows = Object.keys(group.subcommands).map((name): [string, string] => {
    const sub = subcommandOf(group, name);
    return [`${name} ${synopsisOf(sub)}`.trimEnd(), sub.summary];
  });
  return (
    `usage: xdpnet ${group.name} ${group.operand} [options]\n\n${group.summary}\n\n` +
    `${group.section ?? 'subcommands'}:\n${columns(rows)}\n` +
    `options (which a ${group.noun} takes: xdpnet ${group.name} ${group.operand} --help):\n` +
    columns(flagRows(group.flags)) +
    (group.notes ? `\n${group.notes}` : '')
  );
}

/** Prints a command's help on stdout; its exit code, 0. */
export function printHelp(text: string): number {
  process.stdout.write(text);
  return 0;
}
