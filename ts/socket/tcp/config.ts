// Tunables of a TCP connection, with Linux-like defaults where an RFC leaves a choice.

import type { CongestionAlgorithm } from './congestion/index.js';
import { DEFAULT_RTO_CONFIG, type RtoConfig } from './rto.js';

export interface TcpConfig extends RtoConfig {
  /** MSS we advertise: what fits our MTU (1500 - 40 for IPv4). */
  mss: number;
  sendBufferBytes: number;
  receiveBufferBytes: number;
  /** Receive buffer auto-tuning cap (also picks our window scale). */
  receiveBufferMaxBytes: number;
  windowScaling: boolean;
  sack: boolean;
  timestamps: boolean;
  congestion: CongestionAlgorithm;
  /** RFC 9293 3.8.6.3: at most 500 ms; Linux uses 40 ms. */
  delayedAckMs: number;
  /** 2*MSL for TIME-WAIT (RFC 9293 3.4.2; Linux 60 s). */
  timeWaitMs: number;
  /** How long an orphaned FIN-WAIT-2 waits for the peer's FIN (Linux tcp_fin_timeout). */
  finWait2TimeoutMs: number;
  /** SYN retransmissions before ETIMEDOUT (Linux tcp_syn_retries). */
  synRetries: number;
  /** Data retransmissions before ETIMEDOUT (Linux tcp_retries2). */
  maxRetries: number;
  /** RFC 5482 / RFC 9293 3.8.3 user timeout for unacknowledged data; 0 = off. */
  userTimeoutMs: number;
  noDelay: boolean;
  keepAlive: boolean;
  /** RFC 9293 3.8.4 / RFC 1122 4.2.3.6: idle time before probing, at least two hours by default. */
  keepAliveIdleMs: number;
  keepAliveIntervalMs: number;
  keepAliveCount: number;
  /** RFC 5961 7: challenge ACKs sent per second at most (per connection). */
  challengeAckLimit: number;
  /** Out-of-order ranges remembered by the receiver. */
  reassemblyRanges: number;
  /** SACKed ranges remembered by the sender. */
  scoreboardRanges: number;
  /** Largest persist (zero window probe) interval. */
  maxPersistMs: number;
  /** RACK time-based loss detection (RFC 8985 6), with SACK; Linux default on. */
  rack: boolean;
  /** Tail loss probes (RFC 8985 7), with SACK; Linux default on (tcp_early_retrans 3). */
  tlp: boolean;
  /** RFC 8985 7.2 WCDelAckT: worst-case delayed ACK added to the PTO of a one-segment flight. */
  tlpWorstCaseDelAckMs: number;
  /**
   * Linux tcp_tw_reuse=1, for the stack (per-connection overrides do not apply): a connect that
   * picks its own port may pick one whose 4-tuple a TIME-WAIT of ours holds, and take it over,
   * when that connection used timestamps and last updated TS.Recent more than 1 s ago (PAWS,
   * RFC 7323 5, then keeps old duplicates out; the new ISS starts above the old sequence space).
   * Default false (tcp_tw_reuse=0): such ports are skipped. A socket that bound its port itself
   * takes over a TIME-WAIT with timestamps either way, as Linux's does (tcp_twsk_unique).
   */
  twReuse: boolean;
}

export const DEFAULT_TCP_CONFIG: Readonly<TcpConfig> = {
  ...DEFAULT_RTO_CONFIG,
  mss: 1460,
  sendBufferBytes: 256 * 1024,
  receiveBufferBytes: 128 * 1024,
  receiveBufferMaxBytes: 4 * 1024 * 1024,
  windowScaling: true,
  sack: true,
  timestamps: true,
  congestion: 'cubic',
  delayedAckMs: 40,
  timeWaitMs: 60_000,
  finWait2TimeoutMs: 60_000,
  synRetries: 6,
  maxRetries: 15,
  userTimeoutMs: 0,
  noDelay: false,
  keepAlive: false,
  keepAliveIdleMs: 7200_000,
  keepAliveIntervalMs: 75_000,
  keepAliveCount: 9,
  challengeAckLimit: 100,
  reassemblyRanges: 32,
  scoreboardRanges: 32,
  maxPersistMs: 60_000,
  rack: true,
  tlp: true,
  tlpWorstCaseDelAckMs: 200,
  twReuse: false,
};

export function tcpConfig(overrides: Partial<TcpConfig> = {}): TcpConfig {
  const config = { ...DEFAULT_TCP_CONFIG, ...overrides };
  if (config.delayedAckMs > 500) {
    throw Object.assign(new Error('delayedAckMs must be at most 500 (RFC 9293 3.8.6.3)'), {
      code: 'EINVAL',
    });
  }
  return config;
}
