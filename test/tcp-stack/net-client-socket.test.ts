// The parts of net.Socket that Node's http client, tls and undici lean on beyond what net.test.ts
// covers (memory pair, virtual time for TCP; the idle timeout runs on real timers, as Node's):
// destroySoon, readyState through a connection's life, 'connect' then 'ready', and setTimeout's
// 'timeout' event (postponed by traffic, cancelled by setTimeout(0)).
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from '../../ts/api/net.js';
import { A4, TcpFixture, type TcpBed } from './harness.js';
import { pattern } from '../support/byte-pattern.js';

/** Rounds of the pair until `cond()`, for up to `ms` of wall-clock time (real timers run). */
async function untilReal(bed: TcpBed, cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) {
    await bed.round();
    await new Promise((r) => setTimeout(r, 2));
  }
  return cond();
}

describe('tcp-stack: net.Socket as Node clients use it (memory pair)', function () {
  const fx = new TcpFixture();
  afterEach(() => fx.closeAndAudit());

  it('destroySoon() sends what was written, then FIN, then closes without error', async () => {
    const bed = fx.open();
    const got: Buffer[] = [];
    let serverEnded = false;
    const server = createServer({ stack: bed.a.tcp }, (s) => {
      s.on('data', (d: Buffer) => got.push(d));
      s.on('end', () => (serverEnded = true));
    });
    server.listen(7300);
    const c = connect({ port: 7300, host: A4, stack: bed.b.tcp });
    let closed: boolean | null = null;
    c.on('close', (hadError: boolean) => (closed = hadError));
    const msg = pattern(300_000, 7); // more than the send buffer takes at once
    c.write(msg);
    c.destroySoon();
    assert.ok(await bed.until(() => serverEnded && closed !== null, 5000));
    assert.ok(Buffer.concat(got).equals(msg));
    assert.equal(closed, false);
    assert.equal(c.destroyed, true);
    server.close();
  });

  it("moves readyState opening -> open -> readOnly -> closed; 'ready' follows 'connect'", async () => {
    const bed = fx.open();
    const server = createServer({ stack: bed.a.tcp, allowHalfOpen: true }, (s) => {
      s.resume();
      s.on('end', () => s.end());
    });
    server.listen(7301);
    const events: string[] = [];
    const c: Socket = connect({ port: 7301, host: A4, stack: bed.b.tcp, allowHalfOpen: true });
    assert.equal(c.readyState, 'opening');
    c.on('connect', () => events.push(`connect ${c.readyState}`));
    c.on('ready', () => events.push('ready'));
    c.on('end', () => events.push('end'));
    c.resume();
    assert.ok(await bed.until(() => events.length >= 2));
    assert.deepEqual(events, ['connect open', 'ready']);
    c.end(); // our FIN: we still read
    assert.equal(c.readyState, 'readOnly');
    assert.ok(await bed.until(() => events.includes('end'), 5000));
    assert.equal(c.readyState, 'closed');
    server.close();
  });

  it("emits 'timeout' after the idle time, later when traffic flows, never after setTimeout(0)", async () => {
    const bed = fx.open();
    const server = createServer({ stack: bed.a.tcp }, (s) => s.pipe(s));
    server.listen(7302);
    let connected = false;
    const c = connect({ port: 7302, host: A4, stack: bed.b.tcp }, () => (connected = true));
    c.resume();
    assert.ok(await bed.until(() => connected));

    let timeouts = 0;
    const t0 = Date.now();
    c.setTimeout(150, () => timeouts++);
    assert.equal(c.timeout, 150);
    // Echo traffic every 50 ms for 300 ms keeps the socket from going idle.
    let lastWrite = t0;
    while (Date.now() - t0 < 300) {
      c.write('x');
      lastWrite = Date.now();
      await untilReal(bed, () => false, 50);
    }
    assert.equal(timeouts, 0, 'timed out while traffic flowed');
    assert.ok(await untilReal(bed, () => timeouts === 1, 1000));
    const idle = Date.now() - lastWrite;
    assert.ok(idle >= 150, `timed out ${idle} ms after the last write`);

    const onTimeout = (): void => {
      timeouts++;
    };
    c.setTimeout(100, onTimeout);
    c.setTimeout(0, onTimeout); // as Node's: cancels the timer and takes the listener back
    assert.equal(c.timeout, undefined);
    assert.equal(c.listenerCount('timeout'), 0);
    await untilReal(bed, () => false, 250);
    assert.equal(timeouts, 1, 'timed out after setTimeout(0)');
    c.destroy();
    server.close();
  });
});
