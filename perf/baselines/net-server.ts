// What the net-echo, net-sink and http-server baselines share: options, the run's end (`--seconds`
// passed, or no activity for `--idle` seconds after the first connection) and the one JSON line
// printed at exit. The servers run on Node's kernel stack at the bed's .3 address.
// Usage: node <baseline>.js --bind ADDR --port P --seconds S [--idle 2]
import type { Server, Socket } from 'node:net';
import { numberOption, stringOption } from './options.js';

export interface ServerRun {
  /** Call on every connection and every chunk: keeps the run alive. */
  seen(): void;
  /** Counts a connection and destroys it when the run ends. */
  track(socket: Socket): void;
  bytes: number;
  connections: number;
}

/** Listens per the command line, says "ready", and exits once the run is over. */
export function runServer(server: Server): ServerRun {
  const bind = stringOption('bind') ?? '127.0.0.1';
  const port = numberOption('port', 7);
  const run = watchServer(server);
  server.listen({ host: bind, port, backlog: 4096 }, () => run.start());
  return run;
}

/**
 * The run of a server that listens (or will) by itself: call start() once it listens. Counts
 * connections (track), says "ready", and exits with the JSON line once `--seconds` passed or
 * nothing happened for `--idle` seconds after the first connection.
 */
export function watchServer(server: Server): ServerRun & { start(): void } {
  const seconds = numberOption('seconds', 30);
  const idleSeconds = numberOption('idle', 2);
  const cpu0 = process.cpuUsage();
  const sockets = new Set<Socket>();
  let last = 0;
  const run = {
    bytes: 0,
    connections: 0,
    seen: () => (last = performance.now()),
    track(socket: Socket) {
      run.connections++;
      run.seen();
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    },
    start() {
      process.stdout.write('ready\n');
      const started = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        if ((last !== 0 && now - last > idleSeconds * 1000) || now - started > seconds * 1000) {
          clearInterval(timer);
          const cpu = process.cpuUsage(cpu0);
          const out = { connections: run.connections, bytes: run.bytes };
          const cpuSeconds = (cpu.user + cpu.system) / 1e6;
          process.stdout.write(`${JSON.stringify({ ...out, cpuSeconds })}\n`);
          for (const s of sockets) s.destroy();
          server.close(() => process.exit(0));
          setTimeout(() => process.exit(0), 500).unref();
        }
      }, 50);
    },
  };
  return run;
}
