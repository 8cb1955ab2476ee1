// The TCP and UDP echo examples in one app module (port 7): what `perf fuzz` serves while the
// fuzzer runs, so the normal client can exchange data over both. For the campaign's memory check
// it also answers a datagram to MEMORY_PORT with this worker's memory, read after a full garbage
// collection when the process exposes gc (the campaign sets --expose-gc before the workers start).
import '../../examples/tcp-echo.js';
import '../../examples/udp-echo.js';
import { dgram } from '../../ts/index.js';

/** Where the campaign asks for the worker's memory, with MEMORY_ASK. */
export const MEMORY_PORT = 7777;
const MEMORY_ASK = 'memory?';

const memory = dgram.createSocket({ type: 'udp4' });
memory.on('message', (msg, rinfo) => {
  if (msg.toString() !== MEMORY_ASK) return; // a fuzzed datagram that happened on the port
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const m = process.memoryUsage();
  const reply = JSON.stringify({
    collected: gc !== undefined,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  });
  memory.send(Buffer.from(reply), rinfo.port, rinfo.address);
});
memory.bind(MEMORY_PORT);
