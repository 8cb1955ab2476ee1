// Running the system tools the test bed is built with (ip, tc, ethtool, sysctl): argv arrays only,
// never shell strings, always bounded by a timeout, failures turned into Node-style errors that
// carry the failing command and its stderr.
import { spawn, spawnSync } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  timeoutMs?: number;
  input?: string;
}

export interface CommandError extends Error {
  code: string;
  command: string;
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/** Signals terminate with 128 + signal number, as shells report it. */
const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

// iproute2 and friends report kernel errno values as text; map the common ones back to errno
// names so callers can branch on `code`.
const ERRNO_BY_MESSAGE: [RegExp, string][] = [
  [/File exists/i, 'EEXIST'],
  [/Operation not permitted|Permission denied/i, 'EPERM'],
  [/Cannot find device|No such device/i, 'ENODEV'],
  [/No such file or directory/i, 'ENOENT'],
  [/Device or resource busy/i, 'EBUSY'],
  [/Numerical result out of range|greater than device maximum|less than device minimum/i, 'ERANGE'],
  [/Invalid argument|Error: argument .* is wrong/i, 'EINVAL'],
];

function errnoFromStderr(stderr: string): string {
  for (const [pattern, code] of ERRNO_BY_MESSAGE) if (pattern.test(stderr)) return code;
  return 'EIO';
}

export function makeError(
  code: string,
  message: string,
  extra: Partial<CommandError> = {},
): CommandError {
  return Object.assign(new Error(message), { code, command: '' }, extra);
}

function commandFailed(argv: readonly string[], result: CommandResult): CommandError {
  const command = argv.join(' ');
  const detail = result.stderr.trim() || result.stdout.trim() || '(no output)';
  return makeError(
    errnoFromStderr(result.stderr),
    `'${command}' failed with exit code ${result.code}: ${detail}`,
    { command, exitCode: result.code, stdout: result.stdout, stderr: result.stderr },
  );
}

function notInstalled(argv: readonly string[], cause: NodeJS.ErrnoException): CommandError {
  return makeError(
    cause.code ?? 'ENOENT',
    `cannot run '${argv[0]}' (${cause.message}); install the system tools (README, ` +
      'Requirements; in a clone, `node scripts/setup.mjs` as root installs them)',
    { command: argv.join(' ') },
  );
}

/**
 * Runs argv and resolves with its exit code and output, whatever the exit code. Rejects only when
 * the program cannot be started (ENOENT) or overruns its timeout (ETIMEDOUT; it is SIGKILLed).
 */
export function runCommand(
  argv: readonly string[],
  opts: CommandOptions = {},
): Promise<CommandResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdin.on('error', () => {}); // a program that exits without reading its input
    child.stdin.end(opts.input ?? '');
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(notInstalled(argv, err));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        const command = argv.join(' ');
        reject(
          makeError('ETIMEDOUT', `'${command}' did not finish within ${timeoutMs} ms`, {
            command,
            stdout,
            stderr,
          }),
        );
        return;
      }
      resolve({ code: code ?? 128 + (SIGNAL_NUMBERS[signal ?? ''] ?? 0), stdout, stderr });
    });
  });
}

/** Runs argv and rejects with a Node-style error (errno code, command, stderr) unless it exits 0. */
export async function mustRun(
  argv: readonly string[],
  opts: CommandOptions = {},
): Promise<CommandResult> {
  const result = await runCommand(argv, opts);
  if (result.code !== 0) throw commandFailed(argv, result);
  return result;
}

/**
 * The synchronous form, for process 'exit' handlers where nothing asynchronous runs any more.
 * Never throws: a program that cannot run reports code -1.
 */
export function runCommandSync(
  argv: readonly string[],
  timeoutMs = DEFAULT_TIMEOUT_MS,
): CommandResult {
  const result = spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  return {
    code: result.error ? -1 : (result.status ?? -1),
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
  };
}
