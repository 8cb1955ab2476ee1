// A small argv parser: positionals plus `--name value`, `--name=value` and bare `--flag`.

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | true>;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) {
      options[arg.slice(2, eq)] = arg.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      options[arg.slice(2)] = argv[++i];
    } else {
      options[arg.slice(2)] = true;
    }
  }
  return { positionals, options };
}

/** A numeric option, or the default; throws a clear error for a non-number. */
export function numberOption(args: ParsedArgs, name: string, fallback: number): number {
  const v = args.options[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v === true || !Number.isFinite(n)) {
    throw Object.assign(new Error(`--${name} needs a number, got '${String(v)}'`), {
      code: 'EINVAL',
    });
  }
  return n;
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.options[name];
  if (v === undefined) return undefined;
  if (v === true) {
    throw Object.assign(new Error(`--${name} needs a value`), { code: 'EINVAL' });
  }
  return v;
}
