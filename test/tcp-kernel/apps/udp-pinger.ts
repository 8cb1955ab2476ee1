// Test app for test/tcp-kernel/resize.test.ts: every engine worker connects a UDP socket to the
// kernel echo server XDPNET_UP_TARGET (host:port), sends XDPNET_UP_COUNT datagrams 10 ms apart
// and counts the echoes. Every 100 ms it writes {worker, sent, received} as JSON to
// `${XDPNET_UP_RESULT}.${workerId}` (written to a temporary name and renamed, so a reader never
// sees half a file). The echoes only reach this worker while its flow is steered here: after a
// worker-count change that moved the flow's bucket, only by its pin.
import { renameSync, writeFileSync } from 'node:fs';
import { dgram } from '../../../ts/index.js';
import { workerStack } from '../../../ts/api/worker-stack.js';

const target = /^([^:]+):(\d+)$/.exec(process.env.XDPNET_UP_TARGET ?? '');
const count = Number(process.env.XDPNET_UP_COUNT ?? 0);
const resultBase = process.env.XDPNET_UP_RESULT ?? '';
const worker = workerStack().workerId;

function start(host: string, port: number): void {
  const socket = dgram.createSocket('udp4');
  let sent = 0;
  let received = 0;
  const file = `${resultBase}.${worker}`;
  const report = (): void => {
    writeFileSync(`${file}.tmp`, JSON.stringify({ worker, sent, received }));
    renameSync(`${file}.tmp`, file);
  };
  socket.on('message', () => received++);
  socket.connect(port, host, () => {
    const sender = setInterval(() => {
      if (sent === count) return clearInterval(sender);
      socket.send(Buffer.from(`worker-${worker}-${sent}`));
      sent++;
    }, 10);
    setInterval(report, 100).unref();
  });
}

if (target !== null && resultBase !== '' && count > 0) start(target[1], Number(target[2]));
