// Acceptance tests on incoming segments, as pure functions of the connection's variables.

import { seqGt, seqInWindow, seqLt, seqAdd } from './seq.js';

/**
 * RFC 9293 3.10.7.4 (first check): is a segment of `segLen` sequence numbers (data + SYN + FIN)
 * starting at `seq` acceptable with receive window [rcvNxt, rcvNxt + rcvWnd)?
 */
export function segmentAcceptable(
  seq: number,
  segLen: number,
  rcvNxt: number,
  rcvWnd: number,
): boolean {
  if (segLen === 0) {
    return rcvWnd === 0 ? seq === rcvNxt : seqInWindow(seq, rcvNxt, seqAdd(rcvNxt, rcvWnd));
  }
  if (rcvWnd === 0) return false;
  const end = seqAdd(rcvNxt, rcvWnd);
  return seqInWindow(seq, rcvNxt, end) || seqInWindow(seqAdd(seq, segLen - 1), rcvNxt, end);
}

export const AckCheck = {
  Ok: 0,
  /** Acknowledges something not yet sent: send an ACK and drop (RFC 9293 3.10.7.4). */
  Future: 1,
  /** Older than SND.UNA - MAX.SND.WND: a blind data injection attempt (RFC 5961 5.2). */
  TooOld: 2,
} as const;
export type AckCheck = (typeof AckCheck)[keyof typeof AckCheck];

/** RFC 5961 5.2: acceptable when SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT. */
export function checkAck(ack: number, sndUna: number, sndNxt: number, maxSndWnd: number): AckCheck {
  if (seqGt(ack, sndNxt)) return AckCheck.Future;
  if (seqLt(ack, seqAdd(sndUna, -maxSndWnd))) return AckCheck.TooOld;
  return AckCheck.Ok;
}

/** RFC 7323 5.3 R1: PAWS rejects a segment whose TSval is older than TS.Recent. */
export function pawsRejects(tsVal: number, tsRecent: number): boolean {
  return seqLt(tsVal, tsRecent);
}
