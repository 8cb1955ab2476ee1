// Header prediction (Tcb.inputPredicted) must leave a connection exactly where the full path of
// RFC 9293 3.10.7.4 would. The same seeded transfers run with the fast path on and off: in
// virtual time and with seeded faults both runs are deterministic, so every segment either side
// sends (seq, ack, flags, window, TSval, SACK blocks), the bytes delivered and the end state of
// both TCBs must be identical. Then the same through two whole stacks on a memory pair with its
// own fault injection (loss, reordering, duplication), comparing byte streams and counters.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, connect } from '../../ts/api/net.js';
import type { TcpConfig } from '../../ts/socket/tcp/config.js';
import { TcpState } from '../../ts/socket/tcp/state.js';
import { setHeaderPrediction, type Tcb } from '../../ts/socket/tcp/tcb.js';
import { A4, TcpFixture } from '../tcp-stack/harness.js';
import { pattern } from '../support/byte-pattern.js';
import { BulkTransfer, CLEAN_LINK, impairedLink, type LinkFaults, Network } from './harness.js';

const KB = 1024;

/** Fast-path hits on `tcb` (the segments inputPredicted took). */
function countPredicted(tcb: Tcb): { hits: number } {
  const counter = { hits: 0 };
  const t = tcb as unknown as Record<string, (...a: unknown[]) => boolean>;
  const original = t['inputPredicted'].bind(tcb);
  t['inputPredicted'] = (...a: unknown[]) => {
    const taken = original(...a);
    if (taken) counter.hits++;
    return taken;
  };
  return counter;
}

/** What must not differ between the two runs. */
function endState(tcb: Tcb): Record<string, unknown> {
  return {
    state: tcb.state,
    sndUna: tcb.sndUna,
    sndNxt: tcb.sndNxt,
    sndWnd: tcb.sndWnd,
    sndWl1: tcb.sndWl1,
    sndWl2: tcb.sndWl2,
    maxSndWnd: tcb.maxSndWnd,
    rcvNxt: tcb.rcvNxt,
    rcvAdvRight: tcb.rcvAdvRight,
    cwnd: tcb.cc.cwnd,
    srtt: tcb.rtt.srtt,
    rto: tcb.rtt.rto,
    tsRecent: tcb.timestamps.recent,
    retransmits: tcb.retransmits,
    rtxDeadline: tcb.rtxDeadline,
    probeDeadline: tcb.probeDeadline,
    rackDeadline: tcb.rackDeadline,
    delAckDeadline: tcb.delAckDeadline,
    readable: tcb.readable(),
    unacknowledged: tcb.unacknowledged(),
  };
}

interface Run {
  log: string;
  received: [number, number];
  mismatch: [number, number];
  /** End state sampled mid-transfer (as well as at the end) to catch differences that heal. */
  states: Record<string, unknown>[];
  hits: number;
}

function run(
  faults: LinkFaults,
  seed: number,
  config: Partial<TcpConfig>,
  bothWays: boolean,
  predict: boolean,
): Run {
  setHeaderPrediction(predict);
  try {
    const net = new Network(faults, seed, config, config);
    const total = 512 * KB;
    const ab = new BulkTransfer(net.a, net.b, total, () => false, !bothWays);
    const ba = bothWays ? new BulkTransfer(net.b, net.a, total / 2, () => false, false) : null;
    if (ba !== null) {
      net.a.onEvent = (_ep, e) => {
        ab.onSourceEvent(e);
        ba.onSinkEvent(e);
      };
      net.b.onEvent = (_ep, e) => {
        ba.onSourceEvent(e);
        ab.onSinkEvent(e);
      };
    }
    const ca = countPredicted(net.a.tcb);
    const cb = countPredicted(net.b.tcb);
    net.b.tcb.listen();
    net.a.tcb.connect();
    const states: Record<string, unknown>[] = [];
    const settled = (s: TcpState): boolean => s === TcpState.TimeWait || s === TcpState.Closed;
    for (let t = 50; t < 600_000; t += 50) {
      const done = net.run(
        t,
        () =>
          ab.done &&
          (ba === null || ba.done) &&
          settled(net.a.tcb.state) &&
          settled(net.b.tcb.state),
      );
      if (t % 500 === 0) states.push(endState(net.a.tcb), endState(net.b.tcb));
      if (done) break;
    }
    states.push(endState(net.a.tcb), endState(net.b.tcb));
    assert.equal(ab.received, total, 'A to B stalled');
    if (ba !== null) assert.equal(ba.received, total / 2, 'B to A stalled');
    return {
      log: JSON.stringify(net.log),
      received: [ab.received, ba?.received ?? 0],
      mismatch: [ab.mismatch, ba?.mismatch ?? -1],
      states,
      hits: ca.hits + cb.hits,
    };
  } finally {
    setHeaderPrediction(true);
  }
}

describe('tcp header prediction', () => {
  const links: [string, LinkFaults][] = [
    ['a clean link', CLEAN_LINK],
    ['2% loss', impairedLink(0.02, 0, 0)],
    ['5% loss, 5% reordering, 5% duplication', impairedLink(0.05, 0.05, 0.05)],
    ['10% reordering', impairedLink(0, 0.1, 0)],
  ];
  const configs: [string, Partial<TcpConfig>][] = [
    ['defaults', {}],
    ['newreno, no SACK', { congestion: 'newreno', sack: false }],
    ['no timestamps', { timestamps: false }],
    [
      'no SACK, no timestamps, no window scaling',
      { sack: false, timestamps: false, windowScaling: false },
    ],
    ['small buffers', { receiveBufferBytes: 8192, receiveBufferMaxBytes: 16384 }],
  ];
  for (const [linkName, faults] of links) {
    for (const [configName, config] of configs) {
      for (const bothWays of [false, true]) {
        const dir = bothWays ? 'both ways' : 'one way';
        it(`changes nothing on the wire: ${linkName}, ${configName}, ${dir}`, () => {
          for (const seed of [3, 4]) {
            const slow = run(faults, seed, config, bothWays, false);
            const fast = run(faults, seed, config, bothWays, true);
            assert.equal(slow.hits, 0);
            assert.ok(
              fast.hits > (faults === CLEAN_LINK ? 200 : 10),
              `the fast path was taken ${fast.hits} times`,
            );
            assert.deepEqual(fast.mismatch, [-1, -1]);
            assert.deepEqual(fast.received, slow.received);
            assert.deepEqual(fast.states, slow.states);
            assert.ok(fast.log === slow.log, 'the segments sent differ');
          }
        });
      }
    }
  }

  describe('through two stacks on a memory pair with its fault injection', function () {
    const fx = new TcpFixture();
    afterEach(() => fx.closeAndAudit());

    async function transfer(predict: boolean): Promise<Record<string, unknown>> {
      setHeaderPrediction(predict);
      try {
        const bed = fx.open({
          seed: 9,
          faults: { lossRate: 0.02, reorderRate: 0.03, reorderDistance: 3, duplicateRate: 0.02 },
        });
        const server = createServer({ stack: bed.a.tcp, allowHalfOpen: true }, (s) => {
          const h = createHash('sha256');
          let n = 0;
          s.on('data', (d: Buffer) => {
            h.update(d);
            n += d.length;
          });
          s.on('end', () => s.end(`${n} ${h.digest('hex')}`));
        });
        server.listen(9000);
        const total = 2 * 1024 * 1024;
        const chunk = pattern(64 * 1024, 5);
        const c = connect({ port: 9000, host: A4, stack: bed.b.tcp, allowHalfOpen: true });
        let reply = '';
        c.on('data', (d: Buffer) => (reply += d.toString()));
        let sent = 0;
        const pump = (): void => {
          while (sent < total) {
            sent += chunk.length;
            if (!c.write(chunk)) return;
          }
          c.end();
        };
        c.on('drain', pump);
        c.once('connect', pump);
        let ended = false;
        c.on('end', () => (ended = true));
        assert.ok(await bed.until(() => ended, 200_000), `stalled after ${c.bytesWritten} bytes`);
        const want = createHash('sha256');
        for (let i = 0; i < total / chunk.length; i++) want.update(chunk);
        assert.equal(reply, `${total} ${want.digest('hex')}`);
        const a = bed.a.tcp.stats;
        const b = bed.b.tcp.stats;
        return {
          reply,
          time: bed.clock.now(),
          segs: [a.inSegs, a.outSegs, b.inSegs, b.outSegs],
          retrans: [a.retransSegs, b.retransSegs],
        };
      } finally {
        setHeaderPrediction(true);
      }
    }

    it('delivers the same bytes with the same segments, on and off', async () => {
      const slow = await transfer(false);
      const fast = await transfer(true);
      assert.deepEqual(fast, slow);
    });
  });
});
