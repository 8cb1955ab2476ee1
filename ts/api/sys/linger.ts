// SO_LINGER with a positive l_linger, as Linux does it (tcp_close -> sk_stream_wait_close): a
// blocking close(2) sends the FIN behind the unsent data, then waits while the connection is in
// FIN-WAIT-1, CLOSING or LAST-ACK, i.e. until the FIN (and so every byte before it) is
// acknowledged, or until l_linger seconds have passed. It returns 0 either way, and the connection
// goes on as an orphan: Linux sends no RST when the time runs out (only SO_LINGER {1, 0} resets).
import { TcpEvent, type Clock } from '../../socket/tcp/host.js';
import type { TcpConn, TcpConnUser } from '../../socket/tcp/tcp-conn.js';
import { TcpState } from '../../socket/tcp/state.js';

/**
 * How often a lingering close compares the stack's clock with its deadline. The FIN's ACK ends
 * the wait at once (an event); only the time-out is polled, because the stack's clock may be
 * virtual (tests) and so cannot be waited on with a timer.
 */
const LINGER_POLL_MS = 2;

/** True while our FIN is unacknowledged (Linux's closing(): FIN_WAIT1 | CLOSING | LAST_ACK). */
export function finUnacked(conn: TcpConn): boolean {
  const st = conn.tcb.state;
  return st === TcpState.FinWait1 || st === TcpState.Closing || st === TcpState.LastAck;
}

/** Resolves once `conn`'s FIN is acknowledged or `ms` have passed on the stack's clock. */
export function lingerWait(conn: TcpConn, clock: Clock, ms: number): Promise<void> {
  if (!finUnacked(conn)) return Promise.resolve();
  const deadline = clock.now() + ms;
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | null = null;
    const done = (): void => {
      if (timer !== null) clearInterval(timer);
      timer = null;
      if (conn.user === watcher) conn.user = null;
      resolve();
    };
    // The closed socket gave up the connection (user = null); the lingering close takes it over.
    const watcher: TcpConnUser = {
      onTcpEvent(_c: TcpConn, event: TcpEvent): void {
        if (event === TcpEvent.FinAcked || event === TcpEvent.Closed) done();
      },
    };
    conn.user = watcher;
    timer = setInterval(() => {
      if (!finUnacked(conn) || clock.now() >= deadline) done();
    }, LINGER_POLL_MS);
  });
}
