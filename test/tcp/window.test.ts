// Silly window syndrome avoidance on both sides (RFC 9293 3.8.6.2), Nagle and cork, and the
// window scale choice (RFC 7323).

import assert from 'node:assert/strict';
import {
  receiveWindow,
  type SendDecisionInput,
  sendableBytes,
  windowScaleFor,
} from '../../ts/socket/tcp/window.js';

const base: SendDecisionInput = {
  queued: 0,
  usable: 100_000,
  mss: 1000,
  inFlight: 0,
  maxSendWindow: 100_000,
  noDelay: false,
  cork: false,
  finQueued: false,
};

describe('tcp window rules', () => {
  it('picks the smallest window scale that covers the buffer (RFC 7323 2.3)', () => {
    assert.equal(windowScaleFor(65535), 0);
    assert.equal(windowScaleFor(65536), 1);
    assert.equal(windowScaleFor(4 * 1024 * 1024), 7);
    assert.equal(windowScaleFor(2 ** 40), 14);
  });

  it('receiver opens the window only by min(buffer/2, MSS) or more (RFC 9293 3.8.6.2.2)', () => {
    // 10000-byte buffer, window currently 0, reader frees 500 then 1000 bytes.
    assert.equal(receiveWindow(0, 500, 10_000, 1000, 0), 0);
    assert.equal(receiveWindow(0, 1000, 10_000, 1000, 0), 1000);
    // Small buffer: half the buffer is the threshold.
    assert.equal(receiveWindow(0, 400, 800, 1000, 0), 400);
    // Never less than what was advertised.
    assert.equal(receiveWindow(3000, 100, 10_000, 1000, 0), 3000);
  });

  it('receiver rounds to what the scale can express and caps at 65535 << scale', () => {
    assert.equal(receiveWindow(0, 10_000, 1 << 20, 1000, 7), 10_000 - (10_000 % 128));
    assert.equal(receiveWindow(0, 1 << 30, 1 << 30, 1000, 2), 65535 * 4);
    assert.equal(receiveWindow(0, 200_000, 1 << 20, 1000, 0), 65535);
  });

  it('sender sends full segments whenever the windows allow', () => {
    assert.equal(sendableBytes({ ...base, queued: 5000, inFlight: 3000 }), 1000);
    assert.equal(sendableBytes({ ...base, queued: 5000, usable: 0 }), 0);
  });

  it('Nagle holds a short segment while data is unacknowledged (RFC 9293 3.7.4)', () => {
    assert.equal(sendableBytes({ ...base, queued: 10 }), 10, 'nothing in flight: send');
    assert.equal(sendableBytes({ ...base, queued: 10, inFlight: 1000 }), 0, 'held');
    assert.equal(sendableBytes({ ...base, queued: 10, inFlight: 1000, noDelay: true }), 10);
    assert.equal(sendableBytes({ ...base, queued: 10, inFlight: 1000, finQueued: true }), 10);
  });

  it('cork holds partial segments even with nothing in flight', () => {
    assert.equal(sendableBytes({ ...base, queued: 10, cork: true }), 0);
    assert.equal(sendableBytes({ ...base, queued: 2500, cork: true }), 1000);
    assert.equal(sendableBytes({ ...base, queued: 10, cork: true, finQueued: true }), 10);
  });

  it('sender SWS: a window-limited partial segment waits unless it is half the max window', () => {
    // Peer offers 300 of a max 10000: hold (the persist timer will override).
    const small = { ...base, queued: 5000, usable: 300, maxSendWindow: 10_000, noDelay: true };
    assert.equal(sendableBytes(small), 0);
    // Peer's max window is tiny: 300 is half of it, send.
    assert.equal(sendableBytes({ ...small, maxSendWindow: 600 }), 300);
  });
});
