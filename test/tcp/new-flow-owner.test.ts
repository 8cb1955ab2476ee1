// What a TCP stack does for the new flows of a worker-count change (Engine.resize), on a memory
// pair in virtual time: a SYN whose bucket another worker owns now is dropped without a reset and
// the client's retransmission gets through once the bucket is this worker's; and a SYN-cookie
// ACK is accepted by another worker's stack that shares the cookie secret (and reset by one that
// does not: why the engine gives all its workers one secret).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DEFAULT_RSS_KEY, Reta, ToeplitzHasher } from '../../ts/rss/index.js';
import { TcpStack } from '../../ts/socket/tcp/tcp-stack.js';
import { TcpState } from '../../ts/socket/tcp/state.js';
import { A4, TcpFixture, listen4, dial4 } from '../tcp-stack/harness.js';

describe('tcp: new flows across a worker-count change', function () {
  const fx = new TcpFixture();
  afterEach(() => fx.closeAndAudit());

  it("drops a SYN for another worker's bucket without a reset; the retransmission gets through once the bucket is ours", async () => {
    const steering = { hasher: new ToeplitzHasher(DEFAULT_RSS_KEY), reta: new Reta(2, 128) };
    const bed = fx.open({}, { a: { workerId: 0, steering } });
    const a = bed.a.tcp;
    listen4(a, 9004);
    a.ownNewFlowsBy(new Uint8Array(128).fill(1)); // worker 1 owns every bucket now
    const c = dial4(bed.b.tcp, A4, 9004);
    assert.ok(await bed.until(() => a.stats.newFlowsNotOwned >= 1, 200));
    for (let i = 0; i < 5; i++) await bed.round();
    assert.equal(c.tcb.state, TcpState.SynSent);
    assert.deepEqual(
      { outRsts: a.stats.outRsts, passiveOpens: a.stats.passiveOpens },
      {
        outRsts: 0,
        passiveOpens: 0,
      },
    );
    a.ownNewFlowsBy(new Uint8Array(128)); // every bucket worker 0's
    assert.ok(await bed.until(() => c.tcb.state === TcpState.Established, 20_000));
    assert.ok(bed.b.tcp.stats.retransSegs >= 1, 'the SYN was retransmitted');
    assert.equal(a.stats.outRsts, 0);
  });

  for (const shared of [true, false]) {
    it(`a cookie's ACK that reaches another worker's stack is ${shared ? 'accepted with the shared secret' : 'reset without it'}`, async () => {
      const secret = randomBytes(16);
      const bed = fx.open({}, { a: { cookieSecret: secret } });
      const l = listen4(bed.a.tcp, 9003);
      l.synBacklog = 0; // every SYN is answered with a cookie
      const c = dial4(bed.b.tcp, A4, 9003);
      assert.ok(await bed.until(() => bed.a.tcp.stats.syncookiesSent === 1, 200));
      // Before the ACK comes back, another worker's stack takes the port over (its bucket moved).
      const other = new TcpStack(bed.a.iface, {
        cookieSecret: shared ? secret : randomBytes(16),
      });
      const l2 = listen4(other, 9003);
      try {
        assert.ok(
          await bed.until(() => l2.acceptQueue.length > 0 || c.tcb.state === TcpState.Closed, 200),
        );
        if (shared) {
          assert.equal(l2.acceptQueue.length, 1);
          assert.equal(other.stats.syncookiesRecv, 1);
          assert.equal(other.stats.outRsts, 0);
          assert.equal(c.tcb.state, TcpState.Established);
        } else {
          assert.equal(other.stats.syncookiesFailed, 1);
          assert.equal(c.tcb.state, TcpState.Closed);
          assert.equal(c.tcb.error, 'ECONNRESET');
        }
      } finally {
        other.close();
      }
    });
  }
});
