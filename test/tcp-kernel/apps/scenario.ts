// Test app for test/tcp-kernel: one engine-side scenario per run, chosen by XDPNET_TK_SCENARIO,
// its outcome written as JSON to XDPNET_TK_RESULT (the test reads it from the main thread).
//   write-until-error  port 7001: write to each connection until it fails; record the error code
//   reset              port 7002: on the first byte, resetAndDestroy (SO_LINGER {1,0})
//   time-wait          port 7003: close first (active closer), then relisten with and without
//                      SO_REUSEADDR and serve one more connection
//   echo               port 7004: echo server (reset-before-accept, many connections)
import { writeFileSync } from 'node:fs';
import { net } from '../../../ts/index.js';
import { workerStack } from '../../../ts/api/worker-stack.js';
import type { TcpStack } from '../../../ts/socket/tcp/tcp-stack.js';

const scenario = process.env.XDPNET_TK_SCENARIO ?? '';
const resultFile = process.env.XDPNET_TK_RESULT ?? '';
const tcp = (workerStack() as { tcp: TcpStack }).tcp;

function report(out: Record<string, unknown>): void {
  writeFileSync(resultFile, JSON.stringify(out));
}

function writeUntilError(): void {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  net
    .createServer((s) => {
      let written = 0;
      const giveUp = setTimeout(
        () => report({ error: 'still writing after 20 s', written }),
        20000,
      );
      const pump = (): void => {
        while (!s.destroyed && s.write(chunk)) written += chunk.length;
      };
      s.on('drain', pump);
      s.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(giveUp);
        report({ error: e.code ?? e.message, written });
      });
      pump();
    })
    .listen(7001);
}

function resetOnFirstByte(): void {
  const timeWait0 = tcp.stats.timeWait;
  net
    .createServer((s) => {
      s.once('data', () => {
        s.resetAndDestroy();
        setTimeout(() => {
          report({
            timeWait: tcp.stats.timeWait - timeWait0,
            connections: tcp.connectionCount,
            outRsts: tcp.stats.outRsts,
          });
        }, 500);
      });
    })
    .listen(7002);
}

function timeWaitThenRelisten(): void {
  const port = 7003;
  const first = net.createServer((s) => {
    s.once('data', () => s.end()); // our FIN goes first: this side ends in TIME-WAIT
    s.on('close', () => setTimeout(relisten, 300));
  });
  first.listen(port);
  const relisten = (): void => {
    const timeWait = tcp.stats.timeWait;
    const connections = tcp.connectionCount;
    first.close();
    // Without SO_REUSEADDR the TIME-WAIT connection holds the port (Linux inet_csk_bind_conflict).
    const bare = tcp.listen({ port, is4: false, reuseAddr: false });
    const withoutReuse = typeof bare === 'number' ? bare : 'listening';
    if (typeof bare !== 'number') tcp.closeListener(bare);
    // net.Server sets SO_REUSEADDR as Node does, so a restarted server binds over TIME-WAIT.
    const second = net.createServer((s) => s.pipe(s));
    second.on('error', (e: NodeJS.ErrnoException) => report({ relistenError: e.code }));
    second.listen(port, () => report({ timeWait, connections, withoutReuse, relisten: 'ok' }));
  };
}

function echo(): void {
  let accepted = 0;
  let errors = 0;
  net
    .createServer((s) => {
      accepted++;
      s.on('error', () => errors++);
      s.pipe(s);
    })
    .listen(7004, () => report({ listening: true }));
  setInterval(
    () => writeFileSync(`${resultFile}.stats`, JSON.stringify({ accepted, errors })),
    200,
  );
}

if (resultFile !== '') {
  if (scenario === 'write-until-error') writeUntilError();
  else if (scenario === 'reset') resetOnFirstByte();
  else if (scenario === 'time-wait') timeWaitThenRelisten();
  else if (scenario === 'echo') echo();
}
