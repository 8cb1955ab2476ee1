// SO_LINGER with a positive l_linger, as Linux does it (tcp_close -> sk_stream_wait_close): a
// blocking close(2) sends the FIN behind the unsent data, then waits while the connection is in
// FIN-WAIT-1, CLOSING or LAST-ACK, i.e. until the FIN (and so every byte before it) is
// acknowledged, or until l_linger seconds have passed. It returns 0 either way, and the connection
// goes on as an orphan: Linux sends no RST when the time runs out (only SO_LINGER {1, 0} resets).
import type { Clock } from '../../socket/tcp/host.js';
import type { TcpConn } from '../../socket/tcp/tcp-conn.js';
import { TcpState } from '../../socket/tcp/state.js';

/** How often a lingering close looks at the connection (the TCB tells nobody about a FIN's ACK). */
const LINGER_POLL_MS = 2;

/** True while our FIN is unacknowledged (Linux's closing(): FIN_WAIT1 | CLOSING | LAST_ACK). */
export function finUnacked(conn: TcpConn): boolean {
  const st = conn.tcb.state;
  return st === TcpState.FinWait1 || st === TcpState.Closing || st === TcpState.LastAck;
}

/** Resolves once `conn`'s FIN is acknowledged or `ms` have passed on the stack's clock. */
export async function lingerWait(conn: TcpConn, clock: Clock, ms: number): Promise<void> {
  const deadline = clock.now() + ms;
  while (finUnacked(conn) && clock.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, LINGER_POLL_MS));
  }
}
