// The command line every baseline script takes (the perf modes start them; people do not):
// `--bind ADDR --port P --seconds S [--idle S] [--dst ADDR] [--size N] [--app MODULE]`. Parsed
// strictly, so a mode that passes a flag no baseline knows fails loudly instead of being ignored.
import { parseArgs } from 'node:util';

const NAMES = ['app', 'bind', 'dst', 'port', 'size', 'seconds', 'idle'] as const;
type BaselineOption = (typeof NAMES)[number];

const config = Object.fromEntries(NAMES.map((name) => [name, { type: 'string' as const }]));

function values(): Partial<Record<BaselineOption, string>> {
  return parseArgs({ args: process.argv.slice(2), options: config, strict: true }).values;
}

export function stringOption(name: BaselineOption): string | undefined {
  return values()[name];
}

/** A numeric option, or `fallback`; EINVAL for a value that is not a number. */
export function numberOption(name: BaselineOption, fallback: number): number {
  const raw = values()[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) {
    throw Object.assign(new Error(`--${name} needs a number, got '${raw}'`), { code: 'EINVAL' });
  }
  return n;
}
