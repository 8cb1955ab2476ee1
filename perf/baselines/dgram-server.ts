// What the dgram-sink and dgram-echo baselines share: options, the socket, and the rule for when
// a run ends (`--seconds` passed, or no traffic for `--idle` seconds after it started), after
// which the caller prints its one JSON line. Until then, a caller that counts packets has them
// printed as `progress <packets>` lines (the perf harness's progress for this side).
import dgram from 'node:dgram';
import { numberOption, stringOption } from './options.js';

export interface DgramServer {
  socket: dgram.Socket;
  /** Call on every datagram: tracks when traffic started and last arrived. */
  seen(): void;
  /** Seconds from the first datagram to the last one. */
  activeSeconds(): number;
  cpuSeconds(): number;
}

/**
 * Binds per the command line, says "ready", prints `packets()` (when given) as it goes, and calls
 * `finish` once the run is over.
 */
export function startDgramServer(
  finish: (server: DgramServer) => void,
  packets?: () => number,
): DgramServer {
  const bind = stringOption('bind') ?? '127.0.0.1';
  const port = numberOption('port', 9);
  const seconds = numberOption('seconds', 10);
  const idleSeconds = numberOption('idle', 1);
  const socket = dgram.createSocket({
    type: bind.includes(':') ? 'udp6' : 'udp4',
    recvBufferSize: 1 << 24,
  });
  const cpu0 = process.cpuUsage();
  let first = 0;
  let last = 0;
  const server: DgramServer = {
    socket,
    seen() {
      last = performance.now();
      if (first === 0) first = last;
    },
    activeSeconds: () => (first ? (last - first) / 1000 : 0),
    cpuSeconds() {
      const cpu = process.cpuUsage(cpu0);
      return (cpu.user + cpu.system) / 1e6;
    },
  };
  socket.bind(port, bind, () => {
    process.stdout.write('ready\n');
    const started = performance.now();
    const timer = setInterval(() => {
      if (packets) process.stdout.write(`progress ${packets()}\n`);
      const now = performance.now();
      if ((first !== 0 && now - last > idleSeconds * 1000) || now - started > seconds * 1000) {
        clearInterval(timer);
        finish(server);
        socket.close();
      }
    }, 50);
  });
  return server;
}
