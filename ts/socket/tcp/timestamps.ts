// The timestamps option's state on one connection (RFC 7323 3-5): our TSval clock with its
// per-connection offset, TS.Recent with the rule for updating it, and PAWS.

import type { TcpOptions } from '../../wire/tcp.js';
import { pawsRejects } from './acceptable.js';
import { seqGe, seqGt, seqLe } from './seq.js';

/** RFC 7323 5.5: TS.Recent is invalid after 24 days of idleness. */
const PAWS_IDLE_MS = 24 * 24 * 3600 * 1000;
/** 4 µs ticks per millisecond in an RFC 6528 ISN. */
const ISN_TICKS_PER_MS = 250;

export class Timestamps {
  /** Negotiated: both SYNs carried the option (RFC 7323 3.2). */
  enabled = false;
  /** TS.Recent: the TSval we echo. */
  recent = 0;
  private recentTime = 0;
  private offset = 0;

  /**
   * RFC 7323 5.4 wants TSval offsets unpredictable per connection; RFC 6191 wants TSvals of one
   * 4-tuple to keep increasing across incarnations. The keyed-hash part F(4-tuple) of an RFC 6528
   * ISN (ISS minus its 4 µs clock) is exactly both.
   */
  setOffsetFromIss(iss: number, nowMs: number): void {
    this.offset = (iss - Math.floor(nowMs * ISN_TICKS_PER_MS)) >>> 0;
  }

  /**
   * A connection rebuilt from a SYN cookie keeps the clock its cookie SYN-ACK's TSval came from
   * (no offset): a TSval older than that one would fail the peer's PAWS (RFC 7323 5.3).
   */
  clearOffset(): void {
    this.offset = 0;
  }

  /** Our TSval at `nowMs` (1 ms granularity). */
  value(nowMs: number): number {
    return (Math.floor(nowMs) + this.offset) >>> 0;
  }

  /** From the peer's SYN or SYN-ACK. */
  negotiate(enabled: boolean, peer: TcpOptions, nowMs: number): void {
    this.enabled = enabled && peer.hasTimestamps;
    if (this.enabled) {
      this.recent = peer.tsVal;
      this.recentTime = nowMs;
    }
  }

  /** RFC 7323 5.3 R1 (PAWS), skipping RSTs and a TS.Recent gone stale (5.5). */
  rejects(o: TcpOptions, isRst: boolean, nowMs: number): boolean {
    if (!this.enabled || !o.hasTimestamps || isRst) return false;
    if (nowMs - this.recentTime > PAWS_IDLE_MS) return false;
    return pawsRejects(o.tsVal, this.recent);
  }

  /** RFC 7323 4.3: remember TSval of an accepted segment that covers Last.ACK.sent. */
  update(o: TcpOptions, seq: number, lastAckSent: number, nowMs: number): void {
    if (!this.enabled || !o.hasTimestamps) return;
    if (seqLe(seq, lastAckSent) && seqGe(o.tsVal, this.recent)) {
      this.recent = o.tsVal;
      this.recentTime = nowMs;
    }
  }

  /** How long ago TS.Recent was last updated (Linux ts_recent_stamp; tcp_tw_reuse's test). */
  recentAgeMs(nowMs: number): number {
    return nowMs - this.recentTime;
  }

  /** RFC 6191: is this TSval newer than anything the old incarnation saw? */
  isNewer(o: TcpOptions): boolean {
    return seqGt(o.tsVal, this.recent);
  }

  /** The RTT an echo implies (RFC 7323 4.2). */
  rttOf(tsEcr: number, nowMs: number): number {
    return (this.value(nowMs) - tsEcr) | 0;
  }
}
