// Window rules that are pure arithmetic: the receiver's silly window syndrome avoidance
// (RFC 9293 3.8.6.2.2), the sender's (RFC 9293 3.8.6.2.1) together with Nagle's algorithm
// (RFC 9293 3.7.4, RFC 896) and corking, and the choice of window scale (RFC 7323 2).

import { TCP_MAX_WINDOW_SCALE } from '../../wire/tcp.js';

/** The largest window the 16-bit field can carry unscaled. */
export const MAX_UNSCALED_WINDOW = 0xffff;

/** RFC 7323 2.3: the smallest shift that lets `maxWindow` be advertised (at most 14). */
export function windowScaleFor(maxWindow: number): number {
  let shift = 0;
  while (shift < TCP_MAX_WINDOW_SCALE && maxWindow / 2 ** shift > MAX_UNSCALED_WINDOW) shift++;
  return shift;
}

/**
 * RFC 9293 3.8.6.2.2: the receive window to offer, as the distance from RCV.NXT to the right
 * edge. `advertised` is what the last segment offered (its right edge minus RCV.NXT, never
 * shrunk); `free` is buffer space past RCV.NXT; the window only opens further once it can open
 * by min(capacity / 2, mss). The result is rounded down to what `shift` can express and never
 * less than `advertised` (a window is not withdrawn, RFC 9293 3.8.6).
 */
export function receiveWindow(
  advertised: number,
  free: number,
  capacity: number,
  mss: number,
  shift: number,
): number {
  // Integer arithmetic (this runs for every segment sent): with shift <= 14 the cap is below
  // 2^30, so the shifts stay within int32 (RFC 7323 2.3).
  const cap = MAX_UNSCALED_WINDOW << shift;
  let offer = free < cap ? free : cap;
  offer = (offer >> shift) << shift;
  if (offer <= advertised) return advertised;
  const threshold = Math.min(capacity >>> 1, mss);
  return offer - advertised >= threshold ? offer : advertised;
}

export interface SendDecisionInput {
  /** Unsent bytes queued by the application. */
  queued: number;
  /** Bytes the send window and cwnd allow now. */
  usable: number;
  /** Effective send MSS for this segment. */
  mss: number;
  /** Bytes sent and not yet acknowledged. */
  inFlight: number;
  /** The largest window the peer ever offered (Max(SND.WND)). */
  maxSendWindow: number;
  noDelay: boolean;
  cork: boolean;
  /** The application closed: the last bytes go out with the FIN, unheld (as Linux does). */
  finQueued: boolean;
}

/**
 * How many bytes to put in the next new-data segment, or 0 to hold back (RFC 9293 3.8.6.2.1:
 * send a full segment; or all queued data when pushed and Nagle allows; or at least half the
 * largest window the peer offered). The override timeout of rule (4) is the persist timer.
 */
export function sendableBytes(s: SendDecisionInput): number {
  const len = Math.min(s.queued, s.usable, s.mss);
  if (len <= 0) return 0;
  if (len === s.mss) return len;
  const all = len === s.queued;
  if (all && s.finQueued) return len;
  if (s.cork) return 0;
  // Nagle (RFC 9293 3.7.4): a short segment waits while data is unacknowledged.
  if (all && (s.noDelay || s.inFlight === 0)) return len;
  if (len >= s.maxSendWindow / 2 && s.maxSendWindow > 0 && (s.noDelay || s.inFlight === 0)) {
    return len;
  }
  return 0;
}
