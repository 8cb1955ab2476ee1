// The client side of the engine's control channel (see control-server.ts): find a running
// engine's socket and ask it one question.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { controlDir, controlSocketPath } from './control-server.js';

function fail(code: string, message: string): never {
  throw Object.assign(new Error(message), { code });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** The running engines' pids: control sockets whose process still runs. */
export function runningEngines(dir: string = controlDir()): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of names) {
    const m = /^engine-(\d+)\.sock$/.exec(name);
    if (m && alive(Number(m[1]))) pids.push(Number(m[1]));
  }
  return pids.sort((a, b) => a - b);
}

/**
 * The control socket to talk to: `socket` as given, the engine of `pid`, or the only running
 * engine. ENOENT when there is none, ENOTUNIQ when several run and none was chosen.
 */
export function findControlSocket(opts: { pid?: number; socket?: string } = {}): string {
  if (opts.socket) return opts.socket;
  const dir = controlDir();
  if (opts.pid !== undefined) {
    const p = controlSocketPath(opts.pid, dir);
    if (!fs.existsSync(p)) {
      fail('ENOENT', `no xdpnet engine control socket for pid ${opts.pid} (${p}); is it running?`);
    }
    return p;
  }
  const pids = runningEngines(dir);
  if (pids.length === 0) {
    fail('ENOENT', `no running xdpnet engine (no control socket in ${dir}); start one first`);
  }
  if (pids.length > 1) {
    fail(
      'ENOTUNIQ',
      `${pids.length} xdpnet engines run (pids ${pids.join(', ')}); pick one with --pid`,
    );
  }
  return controlSocketPath(pids[0], dir);
}

/**
 * Sends one request (`cmd` and its `args`, e.g. { count: 2 } for workers) and resolves with its
 * result (rejects with the engine's error).
 */
export function controlRequest<T>(
  socketPath: string,
  cmd: string,
  timeoutMs = 10000,
  args: Record<string, unknown> = {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const s = net.createConnection(socketPath);
    let buffered = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(
        Object.assign(new Error(`no answer from ${socketPath} in ${timeoutMs} ms`), {
          code: 'ETIMEDOUT',
        }),
      );
    }, timeoutMs);
    const done = (err: Error | null, value?: T): void => {
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err);
      else resolve(value as T);
    };
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`${JSON.stringify({ ...args, cmd })}\n`));
    s.on('error', (err) => {
      const e = err as NodeJS.ErrnoException;
      const hint = path.basename(socketPath);
      done(
        Object.assign(new Error(`cannot reach engine at ${socketPath} (${hint}): ${e.message}`), {
          code: e.code ?? 'ECONNREFUSED',
        }),
      );
    });
    s.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      const reply = JSON.parse(buffered.slice(0, nl)) as {
        ok: boolean;
        result?: T;
        error?: { code: string; message: string };
      };
      if (reply.ok) done(null, reply.result);
      else done(Object.assign(new Error(reply.error?.message), { code: reply.error?.code }));
    });
  });
}
