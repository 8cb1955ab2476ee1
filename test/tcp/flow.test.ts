// Flow control and ACK timing: zero window and the persist timer (RFC 9293 3.8.6.1), window
// updates after reads, Nagle (RFC 9293 3.7.4) with and without TCP_NODELAY and its interplay
// with delayed ACKs (RFC 9293 3.8.6.3, RFC 5681 4.2), cork, immediate ACKs for out-of-order data.

import assert from 'node:assert/strict';
import { TcpFlag } from '../../ts/wire/tcp.js';
import { TcpState } from '../../ts/socket/tcp/state.js';
import { BulkTransfer, CLEAN_LINK, Network, type Sent } from './harness.js';

const small = (n: number): Uint8Array => new Uint8Array(n).fill(1);
const isProbe = (s: Sent): boolean => s.len === 0 && s.flags === TcpFlag.Ack;

describe('tcp flow control', () => {
  it('fills a zero window, probes it with backoff, and resumes when the reader drains', () => {
    let paused = true;
    const net = new Network(
      CLEAN_LINK,
      1,
      {},
      {
        receiveBufferBytes: 32 * 1024,
        receiveBufferMaxBytes: 32 * 1024,
      },
    );
    const bulk = new BulkTransfer(net.a, net.b, 500_000, () => paused);
    net.establish();
    net.run(
      net.clock.t + 60_000,
      () => net.b.tcb.receiveBuffer.free === 0 && net.a.tcb.persistDeadline < Infinity,
    );
    assert.equal(net.b.tcb.readable(), 32 * 1024, 'receiver buffer full, nothing lost');
    const start = net.clock.t;
    net.run(start + 20_000);
    const probes = net.segmentsFrom(
      'A',
      (s) => s.time > start - 1 && isProbe(s) && s.seq === (net.a.tcb.sndUna - 1) >>> 0,
    );
    assert.ok(probes.length >= 4, `${probes.length} probes`);
    const gaps = probes.slice(1).map((p, i) => p.time - probes[i].time);
    for (let i = 1; i < gaps.length; i++)
      assert.ok(gaps[i] >= gaps[i - 1] * 1.9, `backoff ${gaps}`);
    const answers = net.segmentsFrom('B', (s) => s.time > start);
    assert.ok(
      answers.every((s) => s.window === 0),
      'receiver keeps answering with a zero window',
    );
    assert.equal(net.a.tcb.state, TcpState.Established, 'probes do not time the connection out');
    const sentBeyond = net.segmentsFrom('A', (s) => s.len > 0 && s.time > start);
    assert.equal(sentBeyond.length, 0, 'no data into a zero window');
    paused = false;
    bulk.drain();
    net.run(net.clock.t + 60_000, () => bulk.done);
    assert.ok(bulk.done);
    assert.equal(bulk.mismatch, -1);
  });

  it('recovers from a lost window update through the persist timer', () => {
    let paused = true;
    const net = new Network(
      CLEAN_LINK,
      1,
      {},
      {
        receiveBufferBytes: 16 * 1024,
        receiveBufferMaxBytes: 16 * 1024,
      },
    );
    const bulk = new BulkTransfer(net.a, net.b, 100_000, () => paused);
    net.establish();
    net.run(net.clock.t + 1000);
    assert.equal(net.b.tcb.receiveBuffer.free, 0);
    let dropUpdates = true;
    net.filter = (from, s) => !(dropUpdates && from.name === 'B' && s.window > 0);
    paused = false;
    const before = net.log.length;
    bulk.drain(); // the window update this causes is lost
    dropUpdates = false;
    assert.ok(net.log.length > before, 'an update was sent (and dropped)');
    const t = net.clock.t;
    net.run(net.clock.t + 60_000, () => bulk.done);
    assert.ok(bulk.done);
    const probe = net.segmentsFrom('A', (s) => s.time >= t && isProbe(s))[0];
    const firstData = net.segmentsFrom('A', (s) => s.time >= t && s.len > 0)[0];
    assert.ok(probe.time < firstData.time, 'a persist probe found the open window');
  });

  it('Nagle holds the second small write until the first is ACKed (delayed by 40 ms)', () => {
    const net = new Network();
    net.establish();
    const t0 = net.clock.t;
    net.a.tcb.write(small(100), 0, 100);
    net.a.tcb.write(small(100), 0, 100);
    net.run(t0 + 200);
    const data = net.segmentsFrom('A', (s) => s.len > 0);
    assert.deepEqual(
      data.map((s) => s.len),
      [100, 100],
    );
    assert.equal(data[0].time, t0);
    // 5 ms there, 40 ms delayed ACK, 5 ms back.
    assert.equal(data[1].time, t0 + 50);
    const ack = net.segmentsFrom('B', (s) => s.time > t0)[0];
    assert.equal(ack.time, t0 + 45);
  });

  it('TCP_NODELAY sends small writes at once', () => {
    const net = new Network(CLEAN_LINK, 1, { noDelay: true });
    net.establish();
    const t0 = net.clock.t;
    net.a.tcb.write(small(100), 0, 100);
    net.a.tcb.write(small(100), 0, 100);
    net.run(t0 + 200);
    const data = net.segmentsFrom('A', (s) => s.len > 0);
    assert.deepEqual(
      data.map((s) => [s.len, s.time]),
      [
        [100, t0],
        [100, t0],
      ],
    );
  });

  it('setNoDelay(true) flushes what Nagle was holding', () => {
    const net = new Network();
    net.establish();
    net.a.tcb.write(small(100), 0, 100);
    net.a.tcb.write(small(50), 0, 50);
    assert.equal(net.segmentsFrom('A', (s) => s.len > 0).length, 1);
    net.a.tcb.setNoDelay(true);
    assert.equal(net.segmentsFrom('A', (s) => s.len > 0).length, 2);
  });

  it('Nagle still sends full segments while data is outstanding', () => {
    const net = new Network();
    net.establish();
    net.a.tcb.write(small(100), 0, 100);
    net.a.tcb.write(small(3000), 0, 3000);
    const data = net.segmentsFrom('A', (s) => s.len > 0).map((s) => s.len);
    assert.deepEqual(data, [100, 1448, 1448], 'the 104-byte tail waits');
  });

  it('cork sends only full segments until uncorked', () => {
    const net = new Network();
    net.establish();
    net.a.tcb.setCork(true);
    for (let i = 0; i < 5; i++) net.a.tcb.write(small(100), 0, 100);
    assert.equal(net.segmentsFrom('A', (s) => s.len > 0).length, 0);
    net.a.tcb.setCork(false);
    const data = net.segmentsFrom('A', (s) => s.len > 0);
    assert.deepEqual(
      data.map((s) => s.len),
      [500],
    );
    assert.ok((data[0].flags & TcpFlag.Psh) !== 0);
  });

  it('ACKs every second full segment at once and a lone one after the delayed-ACK timeout', () => {
    const net = new Network(CLEAN_LINK, 1, { noDelay: true });
    net.establish();
    const t0 = net.clock.t;
    net.a.tcb.write(small(2 * 1448), 0, 2 * 1448);
    net.run(t0 + 30);
    const acks = net.segmentsFrom('B', (s) => s.time > t0);
    assert.equal(acks.length, 1);
    assert.equal(acks[0].time, t0 + 5, 'two full segments: immediate');
    const t1 = net.clock.t;
    net.a.tcb.write(small(1448), 0, 1448);
    net.run(t1 + 100);
    const late = net.segmentsFrom('B', (s) => s.time > t1);
    assert.equal(late[0].time, t1 + 5 + 40);
  });

  it('ACKs out-of-order data at once with a SACK block, and the gap fill at once', () => {
    const net = new Network(CLEAN_LINK, 1, { noDelay: true });
    net.establish();
    const una = net.a.tcb.sndNxt;
    let first = true;
    net.filter = (from, s) => !(from.name === 'A' && s.len > 0 && first && !(first = false));
    const t0 = net.clock.t;
    net.a.tcb.write(small(1448 * 3), 0, 1448 * 3);
    net.run(t0 + 7);
    const acks = net.segmentsFrom('B', (s) => s.time > t0);
    assert.equal(acks.length, 2, 'one immediate dup ACK per out-of-order segment');
    assert.equal(acks[0].ack, una);
    assert.deepEqual(acks[1].sackBlocks, [(una + 1448) >>> 0, (una + 3 * 1448) >>> 0]);
    net.run(t0 + 1000, () => net.b.tcb.readable() === 3 * 1448);
    const fill = net.segmentsFrom('B').at(-1)!;
    assert.equal(fill.ack, (una + 3 * 1448) >>> 0);
    assert.equal(fill.sackCount, 0);
  });

  it('sends a window update when a read opens a closed window', () => {
    let paused = true;
    const net = new Network(
      CLEAN_LINK,
      1,
      {},
      {
        receiveBufferBytes: 16 * 1024,
        receiveBufferMaxBytes: 16 * 1024,
      },
    );
    const bulk = new BulkTransfer(net.a, net.b, 100_000, () => paused);
    net.establish();
    net.run(net.clock.t + 1000);
    assert.equal(net.segmentsFrom('B').at(-1)!.window, 0);
    const before = net.segmentsFrom('B').length;
    paused = false;
    net.b.tcb.read(new Uint8Array(500), 0, 500);
    assert.equal(net.segmentsFrom('B').length, before, 'a 500-byte opening is silly: no update');
    bulk.drain();
    const update = net.segmentsFrom('B').at(-1)!;
    assert.equal(net.segmentsFrom('B').length, before + 1);
    assert.ok(update.window > 0);
  });

  it('with a zero receive window still takes the ACK of a data segment at RCV.NXT', () => {
    const net = new Network(CLEAN_LINK, 1, {
      receiveBufferBytes: 16 * 1024,
      receiveBufferMaxBytes: 16 * 1024,
      noDelay: true,
    });
    net.establish();
    net.b.tcb.write(new Uint8Array(16 * 1024), 0, 16 * 1024);
    net.run(net.clock.t + 100);
    assert.equal(net.a.tcb.readable(), 16 * 1024, 'A does not read: its window is zero');
    net.filter = (from) => from.name !== 'B';
    net.a.tcb.write(small(100), 0, 100);
    net.run(net.clock.t + 100);
    assert.notEqual(net.a.tcb.sndUna, net.a.tcb.sndNxt, 'B has not been heard');
    const before = net.segmentsFrom('A').length;
    // A (BSD-style) window probe carrying one byte of new data and a fresh ACK.
    net.inject(net.a, {
      seq: net.a.tcb.rcvNxt,
      ack: net.a.tcb.sndNxt,
      flags: TcpFlag.Ack,
      payload: small(1),
    });
    net.run(net.clock.t + 1);
    assert.equal(net.a.tcb.sndUna, net.a.tcb.sndNxt, 'the ACK was processed (RFC 9293 3.10.7.4)');
    assert.equal(net.a.tcb.readable(), 16 * 1024, 'the byte was not');
    const reply = net.segmentsFrom('A').slice(before);
    assert.equal(reply.length, 1);
    assert.equal(reply[0].window, 0);
    assert.equal(reply[0].ack, net.a.tcb.rcvNxt);
  });
});
