// The TSval of a cookie SYN-ACK (RFC 4987 3.6 with RFC 7323): window scale and SACK-permitted in
// its low 5 bits, and never ahead of the clock the connection rebuilt from the cookie reads its
// TSvals from, or the peer drops that connection's first segments by PAWS (RFC 7323 5.3). The
// clock is real time (ms since 1970, far above 2^32), so the comparison must be modulo 2^32.
import assert from 'node:assert/strict';
import { cookieSackOk, cookieTsVal, cookieWindowScale } from '../../ts/socket/tcp/syn-cookie.js';
import { seqGt } from '../../ts/socket/tcp/seq.js';

describe('tcp: cookie TSval', function () {
  it('is never ahead of the clock (modulo 2^32), and at most 31 ms behind, at epoch-sized times', function () {
    const base = 1_765_000_000_000; // December 2025, in ms
    for (let i = 0; i < 4096; i++) {
      const now = base + i * 7.3;
      for (const [ws, sack] of [
        [14, true],
        [-1, false],
        [7, true],
        [0, false],
      ] as const) {
        const ts = cookieTsVal(now, ws, sack);
        const clock = Math.floor(now) >>> 0;
        assert.ok(!seqGt(ts, clock), `TSval ${ts} ahead of the clock ${clock}`);
        assert.ok((clock - ts) >>> 0 < 32, `TSval ${ts} too far behind ${clock}`);
        assert.equal(cookieWindowScale(ts), ws);
        assert.equal(cookieSackOk(ts), sack);
      }
    }
  });

  it('stays behind the clock across the 2^32 wrap', function () {
    const wrap = 2 ** 32 * 400; // a clock reading whose low 32 bits are 0
    for (const now of [wrap - 3, wrap, wrap + 5, wrap + 31]) {
      const ts = cookieTsVal(now, 14, true);
      assert.ok(!seqGt(ts, Math.floor(now) >>> 0), `at ${now}: ${ts}`);
    }
  });
});
