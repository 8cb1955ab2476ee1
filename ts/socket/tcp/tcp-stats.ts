// The stack's counters.

/** The counters of /proc/net/snmp's Tcp line and TcpExt's listen/cookie ones, for this worker. */
export class TcpStats {
  activeOpens = 0;
  passiveOpens = 0;
  attemptFails = 0;
  estabResets = 0;
  currEstab = 0;
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
  /** Segments the interface could not send (no frame, no route): retransmission covers them. */
  outErrors = 0;
}
