// Baseline receiver: Node's dgram on the kernel stack. Counts datagrams until `--seconds` pass or
// the traffic stops for `--idle` seconds after it started, then prints one JSON line.
// Usage: node dgram-sink.js --bind ADDR --port P --seconds S [--idle 1]
import dgram from 'node:dgram';
import { parseArgs, numberOption, stringOption } from '../../ts/cli/args.js';

const args = parseArgs(process.argv.slice(2));
const bind = stringOption(args, 'bind') ?? '127.0.0.1';
const port = numberOption(args, 'port', 9);
const seconds = numberOption(args, 'seconds', 10);
const idleSeconds = numberOption(args, 'idle', 1);

const socket = dgram.createSocket({
  type: bind.includes(':') ? 'udp6' : 'udp4',
  recvBufferSize: 1 << 24,
});
let received = 0;
let bytes = 0;
let first = 0;
let last = 0;
const cpu0 = process.cpuUsage();

socket.on('message', (msg) => {
  received++;
  bytes += msg.length;
  last = performance.now();
  if (first === 0) first = last;
});

function finish(): void {
  const cpu = process.cpuUsage(cpu0);
  const secondsActive = first ? (last - first) / 1000 : 0;
  process.stdout.write(
    `${JSON.stringify({ received, bytes, seconds: secondsActive, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`,
  );
  socket.close();
}

socket.bind(port, bind, () => {
  process.stdout.write('ready\n');
  const started = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const idle = first !== 0 && now - last > idleSeconds * 1000;
    if (idle || now - started > seconds * 1000) {
      clearInterval(timer);
      finish();
    }
  }, 50);
});
