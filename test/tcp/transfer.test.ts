// Bulk transfers between two TCBs through the simulated link: byte-exact delivery of 10 MB over
// clean and impaired links, both congestion controllers, with and without SACK and timestamps,
// and with the ISN just below 2^32 so sequence numbers wrap during the transfer.

import assert from 'node:assert/strict';
import { TcpState } from '../../ts/socket/tcp/state.js';
import { BulkTransfer, CLEAN_LINK, impairedLink, type LinkFaults, Network } from './harness.js';
import type { TcpConfig } from '../../ts/socket/tcp/config.js';

const MB = 1024 * 1024;

function transfer(
  total: number,
  faults: LinkFaults,
  seed: number,
  config: Partial<TcpConfig> = {},
  iss?: [number, number],
): { net: Network; bulk: BulkTransfer } {
  const net = new Network(faults, seed, config, config);
  if (iss) {
    net.a.iss = iss[0];
    net.b.iss = iss[1];
  }
  const bulk = new BulkTransfer(net.a, net.b, total);
  net.b.tcb.listen();
  net.a.tcb.connect();
  const finished = net.run(
    3_600_000,
    () => bulk.done && net.a.tcb.state === TcpState.TimeWait && net.b.tcb.state === TcpState.Closed,
  );
  assert.equal(bulk.mismatch, -1, `byte ${bulk.mismatch} differs`);
  assert.ok(finished, `transfer stalled: ${bulk.received}/${total} received, A ${net.a.tcb.state}`);
  assert.equal(bulk.received, total);
  return { net, bulk };
}

describe('tcp transfer', () => {
  it('moves 10 MB byte-exact over a clean link and closes cleanly', () => {
    const { net } = transfer(10 * MB, CLEAN_LINK, 1);
    assert.equal(net.b.tcb.state, TcpState.Closed);
    assert.equal(net.a.tcb.state, TcpState.TimeWait);
    net.run(net.clock.t + 61_000);
    assert.equal(net.a.tcb.state, TcpState.Closed);
  });

  const cases: [string, LinkFaults, Partial<TcpConfig>][] = [
    ['1% loss, cubic, SACK + timestamps', impairedLink(0.01, 0, 0), {}],
    ['5% loss + 5% reorder + 5% dup, cubic', impairedLink(0.05, 0.05, 0.05), {}],
    [
      '10% loss + 10% reorder + 10% dup, newreno',
      impairedLink(0.1, 0.1, 0.1),
      { congestion: 'newreno' },
    ],
    [
      '3% loss + reorder, newreno without SACK',
      impairedLink(0.03, 0.03, 0),
      { congestion: 'newreno', sack: false },
    ],
    [
      '5% loss, no SACK, no timestamps, no window scaling',
      impairedLink(0.05, 0.02, 0.02),
      { sack: false, timestamps: false, windowScaling: false },
    ],
    ['2% loss, cubic, timestamps off', impairedLink(0.02, 0.02, 0.02), { timestamps: false }],
  ];
  for (const [name, faults, config] of cases) {
    it(`moves 10 MB byte-exact with ${name}`, () => {
      const { net } = transfer(10 * MB, faults, 7, config);
      assert.ok(net.dropped > 0, 'the link dropped nothing: the test did not test loss');
    });
  }

  it('bottleneck with a small queue and no random loss: congestion drops are recovered', () => {
    const faults = { ...CLEAN_LINK, delayMs: 20, rateBytesPerMs: 1250, queueBytes: 30_000 };
    const { net } = transfer(10 * MB, faults, 3);
    assert.ok(net.dropped > 0);
  });

  it('wraps sequence numbers (ISN just below 2^32) with loss', () => {
    const { net } = transfer(
      10 * MB,
      impairedLink(0.02, 0.02, 0.02),
      11,
      {},
      [0xffff_0000, 0xffff_fff0],
    );
    assert.ok(net.a.tcb.sndNxt < 0x1000_0000, 'A sequence numbers wrapped');
    assert.ok(net.b.tcb.sndNxt < 0x1000_0000 || net.b.tcb.sndNxt >= 0xffff_fff0);
  });

  for (const seed of [21, 22, 23]) {
    it(`moves 2 MB each way at once with 5% loss/reorder/dup (seed ${seed})`, () => {
      const net = new Network(impairedLink(0.05, 0.05, 0.05), seed);
      const ab = new BulkTransfer(net.a, net.b, 2 * MB, () => false, false);
      const ba = new BulkTransfer(net.b, net.a, 2 * MB, () => false, false);
      net.a.onEvent = (ep, e) => {
        ab.onSourceEvent(e);
        ba.onSinkEvent(e);
      };
      net.b.onEvent = (ep, e) => {
        ba.onSourceEvent(e);
        ab.onSinkEvent(e);
      };
      net.b.tcb.listen();
      net.a.tcb.connect();
      const settled = (s: TcpState): boolean => s === TcpState.TimeWait || s === TcpState.Closed;
      const ok = net.run(
        3_600_000,
        () => ab.done && ba.done && settled(net.a.tcb.state) && settled(net.b.tcb.state),
      );
      assert.equal(ab.mismatch, -1);
      assert.equal(ba.mismatch, -1);
      assert.ok(ok, `stalled: ${ab.received} and ${ba.received} received`);
      // Data segments carried SACK blocks (piggybacked) and shrank their payload to fit them.
      const sackedData = net.log.filter((s) => s.len > 0 && s.sackCount > 0);
      assert.ok(sackedData.length > 0);
      assert.ok(sackedData.every((s) => s.len <= 1448 - 4 - 8 * s.sackCount));
    });
  }

  it('survives a matrix of configs x seeds with a reader that keeps pausing (zero windows)', () => {
    const configs: Partial<TcpConfig>[] = [
      {},
      { congestion: 'newreno' },
      { sack: false },
      { timestamps: false },
      { sack: false, timestamps: false, windowScaling: false },
      { receiveBufferBytes: 8192, receiveBufferMaxBytes: 16384 },
      { sendBufferBytes: 4096 },
      { mss: 536 },
    ];
    for (let seed = 1; seed <= 6; seed++) {
      for (const [ci, config] of configs.entries()) {
        const loss = [0.01, 0.05, 0.1, 0.2][seed % 4];
        const faults = {
          ...impairedLink(loss, loss, loss),
          delayMs: 1 + (seed % 20),
          reorderMs: 30,
          rateBytesPerMs: 5000,
          queueBytes: 50_000,
        };
        const net = new Network(faults, seed * 100 + ci, config, config);
        if (seed % 3 === 0) {
          net.a.iss = 0xffffff00 + seed;
          net.b.iss = 0x7ffffff0;
        }
        const total = 200_000 + seed * 1000;
        const paused = (): boolean => Math.floor(net.clock.t / 300) % 3 === 0;
        const bulk = new BulkTransfer(net.a, net.b, total, paused);
        net.ticker = { intervalMs: 100, fn: () => bulk.drain() };
        net.b.tcb.listen();
        net.a.tcb.connect();
        const ok = net.run(36_000_000, () => bulk.done && net.b.tcb.state === TcpState.Closed);
        const what = `seed ${seed} config ${JSON.stringify(config)}`;
        assert.equal(bulk.mismatch, -1, what);
        assert.ok(ok, `${what}: ${bulk.received}/${total}`);
      }
    }
  });
});
