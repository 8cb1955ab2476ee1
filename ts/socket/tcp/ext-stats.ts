// Per-stack counters of loss detection, named after Linux's TcpExt lines in /proc/net/netstat
// (nstat): every TCB of a stack increments the one TcpExtStats its TcpContext holds.

export class TcpExtStats {
  /** TCPLossProbes: tail loss probes sent (RFC 8985 7.3). */
  lossProbes = 0;
  /** TCPLossProbeRecovery: losses a probe revealed and recovery repaired (RFC 8985 7.4). */
  lossProbeRecovery = 0;
  /** TCPSackRecovery: fast recoveries entered with SACK (duplicate ACKs, SACK or RACK). */
  sackRecovery = 0;
  /** TCPRenoRecovery: fast recoveries entered without SACK (RFC 6582). */
  renoRecovery = 0;
  /** Segments RACK marked lost by time (RFC 8985 6.2), no Linux counter of its own. */
  rackLost = 0;
  /** TCPTimeouts: retransmission timeouts with data outstanding. */
  timeouts = 0;
  /** Send MSS reductions from path-MTU messages (RFC 1191, RFC 8201). */
  pmtuMssReductions = 0;
  /** TCPChallengeACK: challenge ACKs sent (RFC 5961 3.2, 4.2, 5.2). */
  challengeAcks = 0;
  /** TCPSYNChallenge: SYNs in a synchronized state, answered with a challenge ACK (RFC 5961 4.2). */
  synChallenges = 0;
  /** TCPACKSkippedChallenge: challenge ACKs not sent, over the per-second limit (RFC 5961 7). */
  ackSkippedChallenges = 0;
}
