// net.connect's synRetries (xdpnet's extension, Linux TCP_SYNCNT semantics) on a memory pair in
// virtual time: the option bounds the SYNs of an unanswered connect, and bad values throw as
// Node's validateInt32 does (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE).
import assert from 'node:assert/strict';
import { connect } from '../../ts/api/net.js';
import { B4, TcpFixture } from './harness.js';

describe('net.connect synRetries', () => {
  const fx = new TcpFixture();
  afterEach(() => fx.closeAndAudit());

  it('gives up with ETIMEDOUT after 1 + synRetries SYNs, 1 + 2 + 4 s for 2', async () => {
    const bed = fx.open();
    bed.pair.a.setFaults({ lossRate: 1 }); // B never hears the SYNs
    const out0 = bed.a.tcp.stats.outSegs;
    const t0 = bed.clock.now();
    const s = connect({ host: B4, port: 7200, synRetries: 2, stack: bed.a.tcp });
    let err: NodeJS.ErrnoException | null = null;
    s.on('error', (e: NodeJS.ErrnoException) => (err = e));
    assert.ok(await bed.until(() => err !== null, 20_000));
    const e = err as unknown as NodeJS.ErrnoException;
    assert.equal(e.code, 'ETIMEDOUT');
    assert.equal(e.syscall, 'connect');
    assert.equal(bed.a.tcp.stats.outSegs - out0, 3);
    const elapsed = bed.clock.now() - t0;
    assert.ok(elapsed >= 7000 && elapsed < 8000, `gave up after ${elapsed} ms`);
  });

  it('throws Node-style errors for values outside 1..127 or not integers', () => {
    const bed = fx.open();
    const bad = (synRetries: unknown, code: string, message: RegExp): void => {
      assert.throws(
        () => connect({ host: B4, port: 7201, synRetries: synRetries as number, stack: bed.a.tcp }),
        (e: NodeJS.ErrnoException) => e.code === code && message.test(e.message),
        String(synRetries),
      );
    };
    const range =
      /^The value of "options.synRetries" is out of range\. It must be >= 1 && <= 127\./;
    bad(0, 'ERR_OUT_OF_RANGE', /It must be >= 1 && <= 127\. Received 0$/);
    bad(128, 'ERR_OUT_OF_RANGE', range);
    bad(1.5, 'ERR_OUT_OF_RANGE', /It must be an integer\. Received 1\.5$/);
    bad('3', 'ERR_INVALID_ARG_TYPE', /must be of type number\. Received type string \('3'\)$/);
    assert.equal(bed.a.tcp.connectionCount, 0, 'nothing was opened');
  });
});
