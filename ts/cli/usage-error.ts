// The error of a command line that cannot run as given (an unknown command or flag, a missing or
// bad value): the CLI prints its message and where the command's help is, and exits with 2.

export interface UsageError extends Error {
  code: 'ERR_USAGE';
  /** The command whose --help to point at ('perf rxdrop'); none for the top level. */
  command?: string;
}

export function usageError(message: string, command?: string): UsageError {
  return Object.assign(new Error(message), { code: 'ERR_USAGE' as const, command });
}

export function isUsageError(err: unknown): err is UsageError {
  return (err as { code?: unknown } | null)?.code === 'ERR_USAGE';
}
