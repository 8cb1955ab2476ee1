// The stack's counters.

/** How a TcpStats reads CurrEstab: the connections now in ESTABLISHED or CLOSE-WAIT. */
export type EstablishedCount = () => number;

/** The counters of /proc/net/snmp's Tcp line and TcpExt's listen/cookie ones, for this worker. */
export class TcpStats {
  activeOpens = 0;
  passiveOpens = 0;
  attemptFails = 0;
  estabResets = 0;
  /**
   * CurrEstab, a gauge: connections in ESTABLISHED or CLOSE-WAIT now (RFC 1213 tcpCurrEstab;
   * Linux counts the same two states, not FIN-WAIT, CLOSING, LAST-ACK or TIME-WAIT). Read from
   * the connection table when asked (an own enumerable getter, so spreads and Object.entries
   * see the value); 0 without a table.
   */
  declare readonly currEstab: number;
  inSegs = 0;
  outSegs = 0;
  retransSegs = 0;
  inErrs = 0;
  outRsts = 0;
  listenOverflows = 0;
  listenDrops = 0;
  syncookiesSent = 0;
  syncookiesRecv = 0;
  syncookiesFailed = 0;
  timeWait = 0;
  /** TWRecycled: TIME-WAITs an outgoing connect took over (tcp_tw_reuse, config twReuse). */
  timeWaitReused = 0;
  /**
   * Segments that would have opened a connection (or drawn a reset) here but whose flow another
   * worker owns since a worker-count change: dropped quietly, the peer's retransmission reaches
   * the owner (TcpStack.ownNewFlowsBy).
   */
  newFlowsNotOwned = 0;
  /** Segments the interface could not send (no frame, no route): retransmission covers them. */
  outErrors = 0;

  readonly #established: EstablishedCount;

  /**
   * One getter for every instance: an accessor defined with a different function per instance
   * gives each its own map, and V8 turns the second and later ones into dictionary objects, so
   * the counters the fast path bumps (inSegs, outSegs) became slow property stores.
   */
  static readonly #readCurrEstab = function (this: TcpStats): number {
    return this.#established();
  };

  constructor(established: EstablishedCount = () => 0) {
    this.#established = established;
    Object.defineProperty(this, 'currEstab', { get: TcpStats.#readCurrEstab, enumerable: true });
  }
}
