// The CLI's parser. A command declares its flags in a table (the value's placeholder, one line of
// help, the check that converts the value); parseCommand runs Node's util.parseArgs over it with
// strict: true, so an unknown flag or a flag without its value is an error, and turns parseArgs'
// errors into messages that name the flag and suggest the nearest known one. The help text
// (help.ts) comes from the same table, so --help lists every flag a command accepts.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest } from './suggest.js';
import { isUsageError, usageError } from './usage-error.js';
import type { ValueCheck } from './values.js';

export interface Flag {
  /** The value's placeholder in the usage ('S', 'IF'); a flag without one is a switch. */
  value?: string;
  /**
   * The value of a flag given without one: `--busy-poll` alone reads as `--busy-poll=20`. Such a
   * flag takes the next word as its value only if it is a number (so `run --busy-poll app.js`
   * keeps app.js an operand); the usage shows the value in brackets.
   */
  implied?: string;
  /** A one-letter alias: 't' for -t. */
  short?: string;
  help: string;
  /** Checks the value and converts it; without one the value is the string given. */
  check?: ValueCheck<unknown>;
}

export type Flags = Record<string, Flag>;

type ValueOf<F> = F extends { check: ValueCheck<infer T> }
  ? T
  : F extends { value: string }
    ? string
    : boolean;

/** The flags given, converted; a flag not given is absent. */
export type Values<F extends Flags> = { [K in keyof F]?: ValueOf<F[K]> };

export interface Operands {
  /** How usage shows them: '<app-module>', '[name]'. */
  usage: string;
  min: number;
  max: number;
}

export interface Command<F extends Flags = Flags> {
  /** How usage and messages name it: 'run', 'perf rxdrop'. */
  name: string;
  /** One line: the top of its help, and its line in the top-level help. */
  summary: string;
  operands?: Operands;
  /** What follows the name where the operands alone do not say it: '-s' for netstat. */
  synopsis?: string;
  flags: F;
  /** Lines after the flags: defaults, examples. */
  notes?: string;
}

export interface Invocation<F extends Flags> {
  /** --help or -h was given: print the usage and do nothing else. */
  help: boolean;
  operands: string[];
  values: Values<F>;
}

/** Every command takes it; parseCommand reports it as `help` rather than among the values. */
export const HELP_FLAG: Flag = { short: 'h', help: 'print this help and exit' };

type ParserOptions = NonNullable<ParseArgsConfig['options']>;
type RawValues = Record<string, string | boolean | undefined>;

function parserOptions(flags: Flags): ParserOptions {
  const all = Object.entries({ ...flags, help: HELP_FLAG });
  return Object.fromEntries(
    all.map(([name, f]) => [
      name,
      {
        type: f.value ? ('string' as const) : ('boolean' as const),
        // parseArgs refuses `short: undefined`.
        ...(f.short ? { short: f.short } : {}),
      },
    ]),
  );
}

/**
 * `argv` with the implied value written in for each flag that has one and was given without a
 * value (`--busy-poll` -> `--busy-poll=20`); a number after such a flag is its value.
 */
function withImpliedValues(flags: Flags, argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') return [...out, ...argv.slice(i)];
    const name = word.startsWith('--') && !word.includes('=') ? word.slice(2) : '';
    const flag = Object.hasOwn(flags, name) ? flags[name] : undefined;
    const next = argv[i + 1];
    const valueFollows = next !== undefined && /^\d+(\.\d+)?$/.test(next);
    out.push(flag?.implied !== undefined && !valueFollows ? `${word}=${flag.implied}` : word);
  }
  return out;
}

/** The flags (still strings) and operands as given; a usage error for anything parseArgs refuses. */
function parseStrict(
  command: string,
  flags: Flags,
  givenArgv: readonly string[],
): { values: RawValues; operands: string[] } {
  const options = parserOptions(flags);
  const argv = withImpliedValues(flags, givenArgv);
  try {
    const parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    return { values: parsed.values as RawValues, operands: parsed.positionals };
  } catch (err) {
    throw explainParseError(err, command, options, argv);
  }
}

/**
 * parseArgs' own messages name no alternative and call a missing value "ambiguous"; this finds
 * the offending option again (a lenient parse, with tokens) and says what is wrong with it.
 */
function explainParseError(
  err: unknown,
  command: string,
  options: ParserOptions,
  argv: readonly string[],
): Error {
  const code = (err as { code?: string }).code ?? '';
  if (!code.startsWith('ERR_PARSE_ARGS_')) return err as Error;
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const problem = optionProblem(token, options);
    if (problem) return usageError(problem, command);
  }
  return usageError((err as Error).message, command);
}

interface OptionToken {
  name: string;
  rawName: string;
  value?: string;
  inlineValue?: boolean;
}

function optionProblem(token: OptionToken, options: ParserOptions): string | undefined {
  const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
  if (!spec) return unknownFlag(token.rawName, Object.keys(options));
  if (spec.type === 'boolean') {
    return token.inlineValue ? `${token.rawName} takes no value, got '${token.value}'` : undefined;
  }
  if (token.value === undefined) return `${token.rawName} needs a value`;
  if (!token.inlineValue && token.value.startsWith('-')) {
    // `--seconds --size 1`: the next word is another flag, not this one's value.
    const negative = /^-[\d.]/.test(token.value);
    const hint = negative ? ` (for a negative value write ${token.rawName}=${token.value})` : '';
    return `${token.rawName} needs a value, but the next argument is '${token.value}'${hint}`;
  }
  return undefined;
}

function unknownFlag(rawName: string, longNames: string[]): string {
  const near = rawName.startsWith('--') ? closest(rawName.slice(2), longNames) : undefined;
  return `unknown flag '${rawName}'` + (near ? `; did you mean --${near}?` : '');
}

function checkOperands(command: Command, operands: string[]): void {
  const { usage, min, max } = command.operands ?? { usage: '', min: 0, max: 0 };
  if (operands.length > max) {
    throw usageError(`unexpected argument '${operands[max]}'`, command.name);
  }
  if (operands.length < min) throw usageError(`missing ${usage}`, command.name);
}

/** Each value given, through its flag's check; a failed check names the command. */
function checkedValues<F extends Flags>(command: Command<F>, raw: RawValues): Values<F> {
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const check = command.flags[name]?.check;
    try {
      values[name] = typeof value === 'string' && check ? check(value, name) : value;
    } catch (err) {
      if (isUsageError(err)) err.command ??= command.name;
      throw err;
    }
  }
  return values as Values<F>;
}

/** The command line of one command: strict flags, operand count, values checked. */
export function parseCommand<F extends Flags>(
  command: Command<F>,
  argv: readonly string[],
): Invocation<F> {
  const { values, operands } = parseStrict(command.name, command.flags, argv);
  if (values.help === true) return { help: true, operands, values: {} };
  delete values.help;
  checkOperands(command, operands);
  return { help: false, operands, values: checkedValues(command, values) };
}

/** A command whose first operand picks a subcommand: `perf <mode>`, `testbed up|down|list`. */
export interface Group<F extends Flags = Flags> {
  name: string;
  summary: string;
  /** How usage shows the subcommand operand: '<mode>'. */
  operand: string;
  /** What messages call a subcommand: 'mode'. */
  noun: string;
  /** Every flag of every subcommand; each subcommand takes some of them. */
  flags: F;
  subcommands: Record<string, Subcommand>;
  /**
   * The heading under which the top-level help lists the subcommands (perf's modes), after one
   * line for the group; without it, the top-level help gives each subcommand a line of its own.
   */
  section?: string;
  notes?: string;
}

export interface Subcommand {
  summary: string;
  operands?: Operands;
  /**
   * The group's flags this one accepts; any other is an error. (Plain strings: `keyof F` here
   * would make Group invariant in F; groups check theirs with `satisfies`.)
   */
  takes: readonly string[];
  notes?: string;
}

export interface GroupInvocation<F extends Flags> extends Invocation<F> {
  /** The subcommand named; absent only for the group's own --help. */
  subcommand?: string;
}

/** One subcommand as a command of its own: its name, operands and the flags it takes. */
export function subcommandOf(group: Group, name: string): Command {
  const sub = group.subcommands[name];
  const flags = Object.fromEntries(sub.takes.map((flag) => [flag, group.flags[flag]]));
  return { ...sub, name: `${group.name} ${name}`, flags };
}

function subcommandNamed(group: Group, name: string): Subcommand {
  if (Object.hasOwn(group.subcommands, name)) return group.subcommands[name];
  const names = Object.keys(group.subcommands);
  const near = closest(name, names);
  const hint = near ? `; did you mean '${near}'?` : ` (the ${group.noun}s: ${names.join(', ')})`;
  throw usageError(`unknown ${group.noun} '${name}'${hint}`, group.name);
}

/** parseStrict over the group's flags; an error names the subcommand, if one is recognisable. */
function parseGroupStrict<F extends Flags>(group: Group<F>, argv: readonly string[]) {
  try {
    return parseStrict(group.name, group.flags, argv);
  } catch (err) {
    const sub = argv.find((word) => Object.hasOwn(group.subcommands, word));
    if (isUsageError(err) && sub) err.command = `${group.name} ${sub}`;
    throw err;
  }
}

/**
 * The command line of a group: parsed against all the group's flags (so the subcommand operand
 * is found wherever it stands), then held to the flags the named subcommand takes.
 */
export function parseGroup<F extends Flags>(
  group: Group<F>,
  argv: readonly string[],
): GroupInvocation<F> {
  const { values, operands } = parseGroupStrict(group, argv);
  if (operands[0] === 'help' && !Object.hasOwn(group.subcommands, 'help')) {
    // `xdpnet perf help [mode]` reads as `xdpnet perf [mode] --help`.
    operands.shift();
    values.help = true;
  }
  const [name, ...rest] = operands;
  if (name === undefined) {
    if (values.help === true) return { help: true, operands: [], values: {} };
    const names = Object.keys(group.subcommands).join(', ');
    throw usageError(`missing ${group.noun}: one of ${names}`, group.name);
  }
  const sub = subcommandNamed(group, name);
  const command = subcommandOf(group, name);
  if (values.help === true) return { help: true, subcommand: name, operands: rest, values: {} };
  delete values.help;
  const foreign = Object.keys(values).find((flag) => !sub.takes.includes(flag));
  if (foreign !== undefined) throw notTaken(command, foreign);
  checkOperands(command, rest);
  const checked = checkedValues(command, values) as Values<F>;
  return { help: false, subcommand: name, operands: rest, values: checked };
}

function notTaken(command: Command, flag: string): Error {
  const takes = Object.keys(command.flags).map((f) => `--${f}`);
  const list = takes.length ? `it takes ${takes.join(', ')}` : 'it takes none but --help';
  return usageError(`--${flag} is not a flag of this command; ${list}`, command.name);
}
