// What Node's http, https and http2 modules use of a net.Socket beyond reading and writing, on
// xdpnet's Socket over a memory pair: setTimeout and its 'timeout' event (kept off by traffic,
// turned off with 0, validated as Node validates it) and destroySoon().
import assert from 'node:assert/strict';
import { createServer, connect, Socket } from '../../ts/api/net.js';
import { pattern } from '../support/byte-pattern.js';
import { A4, TcpFixture, type TcpBed } from './harness.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Drives the pair for `ms` of real time, the virtual clock kept in step (socket timeouts are Node
 * timers; the stacks' delayed ACKs and retransmissions run on the virtual clock).
 */
async function runFor(bed: TcpBed, ms: number, each?: () => void): Promise<void> {
  const start = performance.now();
  const virtualStart = bed.clock.now();
  while (performance.now() - start < ms) {
    each?.();
    await bed.round();
    await sleep(5);
    bed.clock.advanceTo(virtualStart + (performance.now() - start));
  }
}

/** A connected pair of sockets: the server's and the client's. */
async function connected(bed: TcpBed, port: number): Promise<{ server: Socket; client: Socket }> {
  let server: Socket | null = null;
  createServer({ stack: bed.a.tcp }, (s) => (server = s)).listen({ port });
  const client = connect({ port, host: A4, stack: bed.b.tcp });
  assert.ok(await bed.until(() => server !== null && !client.connecting));
  return { server: server as unknown as Socket, client };
}

describe('tcp-stack: the net.Socket surface Node http uses', function () {
  const fx = new TcpFixture();
  afterEach(() => fx.closeAndAudit());

  it("emits 'timeout' only after the set idle time; traffic re-arms it, 0 turns it off", async () => {
    const bed = fx.open();
    const { server, client } = await connected(bed, 7200);
    const timeouts: number[] = [];
    const t0 = performance.now();
    const onTimeout = (): void => void timeouts.push(performance.now() - t0);
    server.resume();
    server.setTimeout(150, onTimeout);
    assert.equal(server.timeout, 150);
    // 400 ms of a byte every 20 ms: never idle for 150 ms.
    await runFor(bed, 400, () => client.write('x'));
    assert.deepEqual(timeouts, []);
    await runFor(bed, 400);
    assert.equal(timeouts.length, 1, `timeouts at ${timeouts.join(', ')} ms`);
    assert.ok(timeouts[0] >= 500 && timeouts[0] < 800, `timeout at ${timeouts[0]} ms`);

    server.setTimeout(0, onTimeout);
    assert.equal(server.listenerCount('timeout'), 0);
    assert.equal(server.timeout, undefined);
    await runFor(bed, 300);
    assert.equal(timeouts.length, 1);
    client.destroy();
    server.destroy();
  });

  it('validates setTimeout as Node does', () => {
    const s = new Socket();
    assert.throws(() => s.setTimeout('10' as unknown as number), {
      code: 'ERR_INVALID_ARG_TYPE',
      name: 'TypeError',
    });
    for (const bad of [-1, NaN, Infinity]) {
      assert.throws(() => s.setTimeout(bad), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError' });
    }
  });

  it('destroySoon() sends what was written, then the FIN, then closes the socket', async () => {
    const bed = fx.open();
    const { server, client } = await connected(bed, 7201);
    const got: Buffer[] = [];
    let ended = false;
    let serverClosed = false;
    client.on('data', (d: Buffer) => got.push(d));
    client.on('end', () => (ended = true));
    server.on('close', () => (serverClosed = true));
    const payload = pattern(300_000, 3);
    server.write(payload);
    server.destroySoon();
    assert.equal(server.destroyed, false); // the data has not gone yet
    assert.ok(await bed.until(() => ended && serverClosed, 5000));
    assert.ok(Buffer.concat(got).equals(payload));
    client.destroy();
  });
});
