// The engine's control channel: a Unix socket at <run dir>/engine-<pid>.sock speaking JSON lines.
// A request is {"cmd":"sockets"|"stats"|"info"}, or {"cmd":"workers","count":N} to change the
// worker count (without count: the same answer as info); the answer is {"ok":true,"result":...}
// or {"ok":false,"error":{"code","message"}}. `xdpnet ss`, `xdpnet netstat` and `xdpnet workers`
// are its clients.
// The socket file is removed when the engine stops and when the process exits.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Where engines put their control sockets (XDPNET_RUN_DIR overrides, for tests). */
export function controlDir(): string {
  return process.env.XDPNET_RUN_DIR ?? '/run/xdpnet';
}

export function controlSocketPath(pid: number = process.pid, dir: string = controlDir()): string {
  return path.join(dir, `engine-${pid}.sock`);
}

/** What the control channel asks of the engine. */
export interface ControlTarget {
  sockets(): Promise<unknown>;
  stats(): Promise<unknown>;
  info(): unknown;
  /** Changes the worker count (Engine.resize); absent when the engine cannot. */
  resize?(workers: number): Promise<unknown>;
}

const MAX_REQUEST = 4096;

export class ControlServer {
  private readonly clients = new Set<net.Socket>();
  private readonly onExit = (): void => this.unlink();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly server: net.Server,
    private readonly target: ControlTarget,
  ) {
    process.once('exit', this.onExit);
    server.on('connection', (s) => this.serve(s));
  }

  /** Listens on `socketPath` (default: this process's path under the run directory). */
  static async start(
    target: ControlTarget,
    socketPath: string = controlSocketPath(),
  ): Promise<ControlServer> {
    // Only root (the engine's user) may ask: the listing shows every connection of the engine.
    fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
    // A file with our own pid is a leftover of an earlier engine in this process, or of a dead
    // process whose pid we now have: nothing listens on it.
    fs.rmSync(socketPath, { force: true });
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(socketPath, 0o600);
    const control = new ControlServer(socketPath, server, target);
    server.unref(); // the control channel never keeps an engine's process alive
    return control;
  }

  private serve(s: net.Socket): void {
    this.clients.add(s);
    s.unref();
    s.on('close', () => this.clients.delete(s));
    s.on('error', () => s.destroy());
    let buffered = '';
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        void this.answer(s, line);
      }
      if (buffered.length > MAX_REQUEST) s.destroy();
    });
  }

  private async answer(s: net.Socket, line: string): Promise<void> {
    let reply: unknown;
    try {
      const req = JSON.parse(line) as { cmd?: unknown; count?: unknown };
      reply = { ok: true, result: await this.run(req.cmd, req.count) };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      reply = { ok: false, error: { code: e.code ?? 'EINVAL', message: e.message ?? String(err) } };
    }
    if (!s.destroyed) s.write(`${JSON.stringify(reply)}\n`);
  }

  private run(cmd: unknown, count: unknown): Promise<unknown> | unknown {
    switch (cmd) {
      case 'workers':
        return count === undefined ? this.target.info() : this.resize(count);
      case 'sockets':
        return this.target.sockets();
      case 'stats':
        return this.target.stats();
      case 'info':
        return this.target.info();
      default:
        throw Object.assign(
          new Error(
            `unknown control command ${JSON.stringify(cmd)}: use sockets, stats, info or workers`,
          ),
          { code: 'EINVAL' },
        );
    }
  }

  private resize(count: unknown): Promise<unknown> {
    if (typeof count !== 'number' || !Number.isInteger(count)) {
      throw Object.assign(new Error(`workers: count must be an integer, got ${String(count)}`), {
        code: 'EINVAL',
      });
    }
    if (!this.target.resize) {
      throw Object.assign(new Error('this engine cannot change its worker count'), {
        code: 'ENOTSUP',
      });
    }
    return this.target.resize(count);
  }

  /** Stops listening, drops the clients and removes the socket file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    process.off('exit', this.onExit);
    for (const c of this.clients) c.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.unlink();
  }

  private unlink(): void {
    try {
      fs.rmSync(this.path, { force: true });
    } catch {
      // exit path: nothing more to do
    }
  }
}
