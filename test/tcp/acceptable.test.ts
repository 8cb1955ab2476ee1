// Segment acceptability (RFC 9293 3.10.7.4), ACK acceptability (RFC 5961 5.2), PAWS (RFC 7323
// 5.3) and the reset for a segment without a connection (RFC 9293 3.10.7.1).

import assert from 'node:assert/strict';
import { TcpFlag, TcpHeader } from '../../ts/wire/tcp.js';
import {
  AckCheck,
  checkAck,
  pawsRejects,
  segmentAcceptable,
} from '../../ts/socket/tcp/acceptable.js';
import { TcpOutSegment } from '../../ts/socket/tcp/host.js';
import { fillResetFor } from '../../ts/socket/tcp/reset.js';

describe('tcp acceptability', () => {
  it('applies the four cases of RFC 9293 3.10.7.4', () => {
    // Zero-length segment, zero window: only SEG.SEQ = RCV.NXT.
    assert.ok(segmentAcceptable(100, 0, 100, 0));
    assert.ok(!segmentAcceptable(101, 0, 100, 0));
    // Zero-length segment, open window: RCV.NXT <= SEG.SEQ < RCV.NXT + RCV.WND.
    assert.ok(segmentAcceptable(150, 0, 100, 100));
    assert.ok(!segmentAcceptable(200, 0, 100, 100));
    assert.ok(!segmentAcceptable(99, 0, 100, 100));
    // Data, zero window: never.
    assert.ok(!segmentAcceptable(100, 10, 100, 0));
    // Data, open window: first or last byte inside.
    assert.ok(segmentAcceptable(90, 20, 100, 100), 'overlaps the left edge');
    assert.ok(segmentAcceptable(190, 20, 100, 100), 'overlaps the right edge');
    assert.ok(!segmentAcceptable(80, 20, 100, 100), 'entirely old');
    assert.ok(!segmentAcceptable(200, 20, 100, 100), 'entirely beyond');
  });

  it('works across the wrap', () => {
    assert.ok(segmentAcceptable(0xfffffff0, 0x20, 0xfffffff8, 0x100));
    assert.ok(segmentAcceptable(0x10, 0, 0xfffffff8, 0x100));
  });

  it('checks ACKs against SND.UNA - MAX.SND.WND .. SND.NXT (RFC 5961 5.2)', () => {
    assert.equal(checkAck(1000, 1000, 2000, 500), AckCheck.Ok);
    assert.equal(checkAck(2000, 1000, 2000, 500), AckCheck.Ok);
    assert.equal(checkAck(2001, 1000, 2000, 500), AckCheck.Future);
    assert.equal(checkAck(500, 1000, 2000, 500), AckCheck.Ok);
    assert.equal(checkAck(499, 1000, 2000, 500), AckCheck.TooOld);
  });

  it('PAWS rejects older timestamps, modulo 2^32 (RFC 7323 5.3)', () => {
    assert.ok(pawsRejects(99, 100));
    assert.ok(!pawsRejects(100, 100));
    assert.ok(!pawsRejects(5, 0xfffffff0), 'newer across the wrap');
  });
});

describe('tcp reset for closed ports', () => {
  it('answers a segment with ACK by <SEQ=SEG.ACK><CTL=RST>', () => {
    const h = new TcpHeader();
    Object.assign(h, {
      srcPort: 1,
      dstPort: 2,
      seq: 10,
      ack: 777,
      flags: TcpFlag.Ack,
      payloadLen: 5,
    });
    const out = new TcpOutSegment();
    assert.ok(fillResetFor(h, out));
    assert.deepEqual(
      [out.header.srcPort, out.header.dstPort, out.header.seq, out.header.flags],
      [2, 1, 777, TcpFlag.Rst],
    );
  });

  it('answers a SYN by <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, and never a RST', () => {
    const h = new TcpHeader();
    Object.assign(h, {
      srcPort: 1,
      dstPort: 2,
      seq: 0xffffffff,
      flags: TcpFlag.Syn,
      payloadLen: 0,
    });
    const out = new TcpOutSegment();
    assert.ok(fillResetFor(h, out));
    assert.equal(out.header.seq, 0);
    assert.equal(out.header.ack, 0);
    assert.equal(out.header.flags, TcpFlag.Rst | TcpFlag.Ack);
    h.flags = TcpFlag.Rst;
    assert.ok(!fillResetFor(h, out));
  });
});
