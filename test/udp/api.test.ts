// The dgram API beyond plain echo: zero-copy receive, batched send with the send queue, receive
// queue limits, close and AbortSignal, throwing listeners, RSS-aware ephemeral ports.
import assert from 'node:assert/strict';
import type { RemoteInfo } from '../../ts/api/dgram.js';
import { DEFAULT_RSS_KEY } from '../../ts/rss/key.js';
import { Reta } from '../../ts/rss/reta.js';
import { ToeplitzHasher } from '../../ts/rss/toeplitz.js';
import { parseIpv4Address } from '../../ts/wire/address.js';
import { A4, B4, B6, nextEvent, UdpFixture } from './harness.js';
import { pattern } from '../support/byte-pattern.js';

function v4Bytes(text: string): Uint8Array {
  const a = parseIpv4Address(text);
  return new Uint8Array([a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff]);
}

/** Collects what would be uncaught exceptions while `body` runs (mocha's handlers set aside). */
async function catchUncaught(body: () => Promise<void>): Promise<unknown[]> {
  const saved = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const caught: unknown[] = [];
  const grab = (err: unknown): void => {
    caught.push(err);
  };
  process.on('uncaughtException', grab);
  try {
    await body();
  } finally {
    process.removeListener('uncaughtException', grab);
    for (const l of saved) process.on('uncaughtException', l);
  }
  return caught;
}

describe('udp: dgram API', function () {
  const fixture = new UdpFixture();
  afterEach(() => fixture.closeAndAudit());

  it('zeroCopy: the message views the frame, holds the right bytes, and the frame goes back', async function () {
    const bed = fixture.open();
    const server = bed.b.socket({ type: 'udp4', zeroCopy: true });
    const seen: { equal: boolean; inUmem: boolean; held: number; rinfo: RemoteInfo }[] = [];
    server.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      seen.push({
        equal: msg.equals(pattern(msg.length, 9)),
        inUmem: msg.buffer === bed.pair.b.bytes.buffer,
        held: bed.pair.b.ledger.census().app,
        rinfo,
      });
    });
    server.bind(8000);
    const client = bed.a.socket('udp4');
    for (const size of [0, 1, 100, 1472]) client.send(pattern(size, 9), 8000, B4);
    client.send(pattern(3000, 9), 8000, B4); // reassembled: a view of the reassembly buffer
    assert.ok(await bed.until(() => seen.length === 5));
    for (const s of seen.slice(0, 4)) {
      assert.ok(s.equal && s.inUmem, 'bytes equal, in UMEM');
      assert.ok(s.held >= 1, 'the frame is held during the listener');
    }
    assert.ok(seen[4].equal && !seen[4].inUmem);
    assert.deepEqual(
      seen.map((s) => s.rinfo.size),
      [0, 1, 100, 1472, 3000],
    );
    assert.equal(bed.pair.b.audit().app, 0, 'every frame released after the callbacks');
  });

  it('sendBatch: one call, many datagrams; waits for frames when they run out (send queue)', async function () {
    const bed = fixture.open({ framesPerPort: 64 });
    const server = bed.b.socket('udp6');
    const got: Buffer[] = [];
    server.on('message', (m: Buffer) => got.push(m));
    server.bind(8010);
    await nextEvent(server, 'listening');
    const client = bed.a.socket('udp6');
    const messages = Array.from({ length: 200 }, (_, i) => ({
      msg: pattern(100 + i, i),
      port: 8010,
      address: B6,
    }));
    let result: [Error | null, number] | null = null;
    client.sendBatch(messages, (err, sent) => (result = [err, sent]));
    assert.ok(client.getSendQueueCount() > 0, 'some datagrams wait for frames');
    assert.ok(await bed.until(() => got.length === 200 && result !== null, 500));
    assert.deepEqual(result, [null, 200]);
    got.forEach((m, i) => assert.ok(m.equals(pattern(100 + i, i)), `datagram ${i} in order`));
    assert.equal(client.getSendQueueCount(), 0);
  });

  it('sendBatch on a connected socket, and ENOBUFS when the send queue is full', async function () {
    const bed = fixture.open({ framesPerPort: 64 });
    const server = bed.b.socket('udp4');
    let n = 0;
    server.on('message', () => n++);
    server.bind(8011);
    const client = bed.a.socket({ type: 'udp4', sendBufferSize: 2000 });
    client.connect(8011, B4);
    let result: [Error | null, number] | null = null;
    client.sendBatch(
      Array.from({ length: 100 }, () => ({ msg: pattern(500, 1) })),
      (err, sent) => (result = [err, sent]),
    );
    assert.ok(await bed.until(() => result !== null, 500));
    const [err, sent] = result as unknown as [Error & { code: string }, number];
    assert.equal(err.code, 'ENOBUFS');
    assert.ok(sent > 0 && sent < 100, `sent ${sent}`);
    assert.ok(await bed.until(() => n === sent));
    assert.equal(bed.a.udp.stats.sndbufErrors, 100 - sent);
  });

  it('recvBufferSize bounds the copy-mode receive queue; drops are counted', async function () {
    const bed = fixture.open();
    const server = bed.b.socket({ type: 'udp4', recvBufferSize: 1000 });
    let n = 0;
    server.on('message', () => n++);
    server.bind(8020);
    const client = bed.a.socket('udp4');
    client.sendBatch(
      Array.from({ length: 10 }, () => ({ msg: pattern(200, 2), port: 8020, address: B4 })),
    );
    assert.ok(await bed.until(() => n + server.getStats().receiveDrops === 10));
    assert.equal(n, 2, '(200 + 256) * 2 <= 1000 < (200 + 256) * 3');
    assert.equal(server.getStats().receiveDrops, 8);
    assert.equal(bed.b.udp.stats.rcvbufErrors, 8);
  });

  it('close: idempotent, one close event, frees the port, later calls throw NOT_RUNNING', async function () {
    const bed = fixture.open();
    const s = bed.a.socket('udp4');
    s.bind(8030);
    await nextEvent(s, 'listening');
    let closes = 0;
    let callbacks = 0;
    s.on('close', () => closes++);
    s.close(() => callbacks++);
    s.close();
    await bed.until(() => closes === 1);
    s.close(() => callbacks++);
    await bed.until(() => callbacks === 2, 5);
    assert.equal(closes, 1);
    assert.equal(callbacks, 2);
    for (const op of [
      () => s.send('x', 1, B4),
      () => s.bind(1),
      () => s.connect(1, B4),
      () => s.address(),
    ]) {
      assert.throws(op, { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
    }
    const again = bed.a.socket('udp4');
    again.bind(8030);
    await nextEvent(again, 'listening');
    // Datagrams for a closed socket's port get port unreachable.
    const peer = bed.b.socket('udp4');
    peer.send('x', 8031, A4);
    assert.ok(await bed.until(() => bed.a.udp.stats.noPorts === 1));
  });

  it('AbortSignal: aborting closes the socket; an aborted signal closes it at once', async function () {
    const bed = fixture.open();
    const ac = new AbortController();
    const s = bed.a.socket({ type: 'udp4', signal: ac.signal });
    s.bind(8040);
    await nextEvent(s, 'listening');
    const closed = nextEvent(s, 'close');
    ac.abort();
    await closed;
    assert.throws(() => s.address(), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
    const t = bed.a.socket({ type: 'udp4', signal: AbortSignal.abort() });
    await nextEvent(t, 'close');
  });

  it('a throwing listener is rethrown outside the stack; delivery and the stack go on', async function () {
    const bed = fixture.open();
    const copy = bed.b.socket('udp4');
    const zero = bed.b.socket({ type: 'udp4', zeroCopy: true });
    const got: string[] = [];
    for (const s of [copy, zero]) {
      s.on('message', (m: Buffer) => {
        const text = m.toString();
        got.push(text);
        if (text.startsWith('boom')) throw new Error(text);
      });
    }
    copy.bind(8050);
    zero.bind(8051);
    const client = bed.a.socket('udp4');
    const caught = await catchUncaught(async () => {
      for (const [text, port] of [
        ['boom-copy', 8050],
        ['after-copy', 8050],
        ['boom-zero', 8051],
        ['after-zero', 8051],
      ] as const) {
        client.send(text, port, B4);
      }
      await bed.until(() => got.length === 4);
      await bed.until(() => false, 3);
    });
    assert.deepEqual(got.sort(), ['after-copy', 'after-zero', 'boom-copy', 'boom-zero']);
    assert.deepEqual(caught.map((e) => (e as Error).message).sort(), ['boom-copy', 'boom-zero']);
    assert.equal(bed.b.udp.stats.listenerErrors, 2);
    assert.equal(bed.pair.b.audit().app, 0);
  });

  it('with steering, connect() picks a port whose replies hash to this worker', async function () {
    const hasher = new ToeplitzHasher(DEFAULT_RSS_KEY);
    const reta = new Reta(4);
    const bed = fixture.open(
      {},
      { a: { workerId: 2, workerCount: 4, steering: { hasher, reta } } },
    );
    for (let i = 0; i < 8; i++) {
      const s = bed.a.socket('udp4');
      s.connect(8060 + i, B4);
      await nextEvent(s, 'connect');
      const port = s.address().port;
      const hash = hasher.hashTuple(v4Bytes(B4), v4Bytes(A4), 8060 + i, port);
      assert.equal(reta.ownerOf(hash), 2, `port ${port}`);
    }
    // Implicit bind on the first send does the same towards its destination.
    const u = bed.a.socket('udp4');
    u.send('x', 8070, B4);
    await nextEvent(u, 'listening');
    const hash = hasher.hashTuple(v4Bytes(B4), v4Bytes(A4), 8070, u.address().port);
    assert.equal(reta.ownerOf(hash), 2);
  });
});
