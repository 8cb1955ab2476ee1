// Test app for test/tcp-kernel/mass-close.test.ts: an echo server on port 7102 that holds every
// connection until XDPNET_MC_COUNT of them have had their echo, then ends them all in one loop,
// in one tick: that many FINs queued at once, more than the device's rings hold.
import { net } from '../../../ts/index.js';

const count = Number(process.env.XDPNET_MC_COUNT ?? 0);
const sockets: net.Socket[] = [];
let echoed = 0;

net
  .createServer((s) => {
    sockets.push(s);
    s.on('error', () => s.destroy());
    s.once('data', (b: Buffer) => {
      s.write(b);
      if (++echoed === count) for (const each of sockets) each.end();
    });
  })
  .listen(7102);
