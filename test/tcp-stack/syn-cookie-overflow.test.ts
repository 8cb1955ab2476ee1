// A cookie handshake that completes into a full accept queue (RFC 4987 3.6). The peer's SYN
// arrives twice while the SYN queue is full, so two identical cookie SYN-ACKs go back; the peer's
// ACK and first data then meet a full accept queue, and its answer to the second SYN-ACK (a
// challenge ACK, RFC 5961 4.2) carries seq irs + 1 + its data. Linux keeps no state for a cookie
// ACK it drops, fails that segment's cookie check and resets an established peer; the engine
// keeps the connection SYN-RECEIVED and the peer's next segment completes it.
// Here B's side is a hand-driven peer: it writes the segments and reads what A answers.
import assert from 'node:assert/strict';
import { InputResult, type RxDatagram, type TransportHandler } from '../../ts/iface/transport.js';
import { TcpFlag, TcpHeader, setTcp4Checksum, writeTcpHeader } from '../../ts/wire/tcp.js';
import { parseIpv4Address } from '../../ts/wire/address.js';
import type { TcpConn } from '../../ts/socket/tcp/tcp-conn.js';
import { TcpState } from '../../ts/socket/tcp/state.js';
import { A4, B4, TcpFixture, type TcpBed } from './harness.js';

const PORT = 9003;
const HALF_OPEN = 20000;
const CLIENT = 20001;

interface Reply {
  port: number;
  seq: number;
  ack: number;
  flags: number;
}

/** Segments from B's side, written by hand (an MSS option on SYNs), and A's answers to them. */
class HandPeer {
  readonly replies: Reply[] = [];
  private readonly h = new TcpHeader();

  constructor(private readonly bed: TcpBed) {
    const tcpB = bed.b.tcp;
    const sink: TransportHandler = {
      input: (d: RxDatagram) => {
        const b = d.buf;
        const o = d.l4Off;
        const port = (b[o + 2] << 8) | b[o + 3];
        if (port < HALF_OPEN || port > CLIENT) return tcpB.input(d);
        const word = (at: number) =>
          ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
        this.replies.push({ port, seq: word(o + 4), ack: word(o + 8), flags: b[o + 13] });
        return InputResult.Done;
      },
      icmpError: (e) => tcpB.icmpError(e),
    };
    bed.b.iface.registerTransport(6, sink);
  }

  send(port: number, seq: number, ack: number, flags: number, payload = 0): void {
    const iface = this.bed.b.iface;
    const syn = (flags & TcpFlag.Syn) !== 0;
    const hlen = syn ? 24 : 20;
    const at = iface.beginIp4(parseIpv4Address(A4), hlen + payload, parseIpv4Address(B4));
    assert.ok(at >= 0);
    const h = this.h;
    h.srcPort = port;
    h.dstPort = PORT;
    h.seq = seq >>> 0;
    h.ack = ack >>> 0;
    h.flags = flags;
    h.window = 65535;
    const b = iface.tx.buf;
    writeTcpHeader(b, at, h, null);
    if (syn) {
      b[at + 12] = 6 << 4; // data offset 24: an MSS option of 1460
      b.set([2, 4, 0x05, 0xb4], at + 20);
    }
    for (let i = 0; i < payload; i++) b[at + hlen + i] = i & 0xff;
    setTcp4Checksum(b, at, hlen + payload, iface.tx.src4, iface.tx.dst4);
    assert.equal(iface.finishIp(6, hlen + payload, true), 0);
  }

  from(port: number, flags: number): Reply[] {
    return this.replies.filter((r) => r.port === port && (r.flags & flags) === flags);
  }
}

function connOf(bed: TcpBed, remotePort: number): TcpConn | undefined {
  return [...bed.a.tcp.allConnections()].find((c) => c.remotePort === remotePort);
}

describe('tcp-stack: a SYN cookie completed into a full accept queue', function () {
  const fx = new TcpFixture();
  afterEach(() => fx.closeAndAudit());

  it('keeps the connection and takes the peer past its first data, with no reset', async () => {
    const bed = fx.open();
    const peer = new HandPeer(bed);
    const l = bed.a.tcp.listen({ port: PORT, is4: true, backlog: 1 });
    assert.ok(typeof l === 'object');
    await bed.round();

    // A half-open connection fills the SYN queue (one place).
    peer.send(HALF_OPEN, 1000, 0, TcpFlag.Syn);
    assert.ok(await bed.until(() => connOf(bed, HALF_OPEN) !== undefined)); // after ARP
    const halfOpen = connOf(bed, HALF_OPEN);
    assert.ok(halfOpen !== undefined);

    // The client's SYN and a copy of it: each answered with the same cookie.
    const irs = 0x7000_0000;
    peer.send(CLIENT, irs, 0, TcpFlag.Syn);
    peer.send(CLIENT, irs, 0, TcpFlag.Syn);
    const answered = () => peer.from(CLIENT, TcpFlag.Syn | TcpFlag.Ack).length >= 2;
    assert.ok(await bed.until(answered));
    const synAcks = peer.from(CLIENT, TcpFlag.Syn | TcpFlag.Ack);
    assert.equal(synAcks.length, 2);
    assert.equal(synAcks[0].seq, synAcks[1].seq);
    const cookie = synAcks[0].seq;
    assert.equal(bed.a.tcp.stats.syncookiesSent, 2);

    // The half-open connection completes: the accept queue (one place) is full.
    peer.send(HALF_OPEN, 1001, halfOpen.tcb.iss + 1, TcpFlag.Ack);
    assert.ok(await bed.until(() => l.acceptQueue.length === 1));

    // The client's ACK meets the full queue; then its data, then its challenge ACK to the
    // second SYN-ACK, which starts past that data.
    peer.send(CLIENT, irs + 1, cookie + 1, TcpFlag.Ack);
    const inSegs = bed.a.tcp.stats.inSegs;
    assert.ok(await bed.until(() => bed.a.tcp.stats.inSegs > inSegs));
    assert.equal(connOf(bed, CLIENT)?.tcb.state, TcpState.SynReceived, 'the connection is kept');
    peer.send(CLIENT, irs + 1, cookie + 1, TcpFlag.Ack | TcpFlag.Psh, 100);
    peer.send(CLIENT, irs + 101, cookie + 1, TcpFlag.Ack);
    // A's ACK of the data may wait for its delayed-ACK timer (virtual time moves on).
    const dataAcked = () => peer.from(CLIENT, TcpFlag.Ack).some((r) => r.ack === (irs + 101) >>> 0);
    assert.ok(await bed.until(dataAcked), 'the first data is acknowledged');

    const s = bed.a.tcp.stats;
    assert.deepEqual(peer.from(CLIENT, TcpFlag.Rst), [], 'no reset to the client');
    assert.deepEqual(
      {
        syncookiesRecv: s.syncookiesRecv,
        syncookiesFailed: s.syncookiesFailed,
        outRsts: s.outRsts,
      },
      { syncookiesRecv: 1, syncookiesFailed: 0, outRsts: 0 },
    );
    const c = connOf(bed, CLIENT);
    assert.equal(c?.tcb.state, TcpState.Established);
    assert.equal(l.accept()?.remotePort, HALF_OPEN);
    assert.equal(l.accept()?.remotePort, CLIENT);
    bed.a.tcp.closeListener(l);
  });
});
