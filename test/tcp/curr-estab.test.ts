// CurrEstab as Linux keeps it (RFC 1213 tcpCurrEstab): the connections in ESTABLISHED or
// CLOSE-WAIT now. FIN-WAIT-1/2, CLOSING, LAST-ACK and TIME-WAIT do not count, though the
// connection still exists; on a memory pair in virtual time both ends are checked through one
// connection left open, one half-closed and one fully closed.
import assert from 'node:assert/strict';
import { TcpState } from '../../ts/socket/tcp/state.js';
import type { TcpConn } from '../../ts/socket/tcp/tcp-conn.js';
import { A4, TcpFixture, listen4, dial4 } from '../tcp-stack/harness.js';

describe('tcp-stack: CurrEstab counts ESTABLISHED and CLOSE-WAIT only', function () {
  const fx = new TcpFixture();
  afterEach(() => fx.closeAndAudit());

  it('leaves out FIN-WAIT-2 and TIME-WAIT, keeps CLOSE-WAIT, and is a gauge in the stats', async () => {
    const bed = fx.open();
    const l = listen4(bed.a.tcp, 7100);
    const clients = [
      dial4(bed.b.tcp, A4, 7100),
      dial4(bed.b.tcp, A4, 7100),
      dial4(bed.b.tcp, A4, 7100),
    ];
    const servers: TcpConn[] = [];
    assert.ok(
      await bed.until(() => {
        for (let s = l.accept(); s !== null; s = l.accept()) servers.push(s);
        return servers.length === 3 && clients.every((c) => c.tcb.state === TcpState.Established);
      }, 20_000),
      'handshakes',
    );
    assert.equal(bed.a.tcp.stats.currEstab, 3);
    assert.equal(bed.b.tcp.stats.currEstab, 3);
    // Client 1 half-closes: it goes to FIN-WAIT-2, its server to CLOSE-WAIT.
    clients[1].tcb.shutdown();
    // Client 2 closes and its server closes back: TIME-WAIT on the client, gone on the server.
    clients[2].tcb.close();
    const peerOf = (c: TcpConn): TcpConn => servers.find((s) => s.remotePort === c.localPort)!;
    assert.ok(
      await bed.until(() => {
        const s2 = peerOf(clients[2]);
        if (s2.tcb.state === TcpState.CloseWait) s2.tcb.close();
        return (
          clients[1].tcb.state === TcpState.FinWait2 &&
          peerOf(clients[1]).tcb.state === TcpState.CloseWait &&
          clients[2].tcb.state === TcpState.TimeWait &&
          s2.tcb.state === TcpState.Closed
        );
      }, 20_000),
      `states: ${clients.map((c) => c.tcb.state).join(',')}`,
    );
    assert.equal(bed.b.tcp.connectionCount, 3, 'the client still has all three connections');
    assert.equal(
      bed.b.tcp.stats.currEstab,
      1,
      'client: ESTABLISHED only (not FIN-WAIT-2, TIME-WAIT)',
    );
    assert.equal(bed.a.tcp.stats.currEstab, 2, 'server: ESTABLISHED and CLOSE-WAIT');
    // What the stats report carries (spread, Object.entries) is the value, not a getter.
    assert.equal({ ...bed.b.tcp.stats }.currEstab, 1);
    assert.equal(Object.fromEntries(Object.entries(bed.a.tcp.stats)).currEstab, 2);
  });
});
