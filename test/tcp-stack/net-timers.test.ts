// Timers armed through the net API fire without the API doing timer bookkeeping: the TCB tells
// the stack when its deadline moves (memory pair, virtual time).
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from '../../ts/api/net.js';
import { A4, TcpFixture } from './harness.js';

describe('tcp-stack: net timers over memory pair', function () {
  const fx = new TcpFixture();
  afterEach(() => fx.closeAndAudit());

  it('setKeepAlive(true, 1000) probes an idle connection and fails it with ETIMEDOUT once the peer is gone', async () => {
    const bed = fx.open();
    const server = createServer({ stack: bed.a.tcp }, () => {});
    server.listen({ port: 7100 });
    let connected = false;
    let error: NodeJS.ErrnoException | null = null;
    const c: Socket = connect({ port: 7100, host: A4, stack: bed.b.tcp }, () => {
      connected = true;
      c.setKeepAlive(true, 1000);
    });
    c.on('error', (e: NodeJS.ErrnoException) => (error = e));
    assert.ok(await bed.until(() => connected));
    await bed.round(); // the connect callback ran: keep-alive is on

    // Idle, with the peer answering: one probe per idle second, and the connection stays up.
    const sent0 = bed.b.tcp.stats.outSegs;
    const t0 = bed.clock.now();
    assert.ok(await bed.until(() => bed.b.tcp.stats.outSegs - sent0 >= 3, 5000));
    const idle = bed.clock.now() - t0;
    assert.ok(idle >= 3000 && idle < 4500, `3 probes took ${idle} ms of idle time`);
    assert.equal(error, null);

    // The peer goes silent: the probes go unanswered and the connection times out.
    bed.pair.a.setFaults({ lossRate: 1 });
    assert.ok(await bed.until(() => error !== null, 50_000));
    assert.equal((error as NodeJS.ErrnoException | null)?.code, 'ETIMEDOUT');
    bed.pair.a.setFaults({ lossRate: 0 });
    server.close();
  });
});
