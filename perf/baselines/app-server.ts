// Baseline for perf http, https and express: the app module the engine side runs (perf/apps),
// loaded here on Node's kernel stack. The app picks Node's http/https from XDPNET_PERF_SIDE and
// listens by itself at the address given; this script only watches the run (net-server.ts).
// Usage: node app-server.js --app perf/apps/<name>.js --bind ADDR --port P --seconds S [--idle 2]
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Server } from 'node:net';
import { numberOption, stringOption } from './options.js';
import { packageRoot } from '../../ts/dev/xdp/native.js';
import { watchServer } from './net-server.js';

const app = stringOption('app');
if (app === undefined) {
  process.stderr.write('app-server: --app <module> is required\n');
  process.exit(2);
}
process.env.XDPNET_PERF_SIDE = 'kernel';
process.env.XDPNET_PERF_HOST = stringOption('bind') ?? '127.0.0.1';
process.env.XDPNET_PERF_PORT = String(numberOption('port', 8080));

const { server } = (await import(pathToFileURL(path.join(packageRoot, 'dist', app)).href)) as {
  server: Server;
};
const run = watchServer(server);
server.on('connection', (socket) => {
  run.track(socket);
  socket.setNoDelay(true);
});
server.on('secureConnection', () => run.seen());
server.on('request', () => run.seen());
if (server.listening) run.start();
else server.once('listening', () => run.start());
