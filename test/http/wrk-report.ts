// What a wrk run reports, read from its text output (wrk 4.x). wrk prints the socket-error and
// non-2xx lines only when a count is not zero.
import assert from 'node:assert/strict';

export interface WrkReport {
  requests: number;
  seconds: number;
  /** connect, read, write, timeout. */
  socketErrors: [number, number, number, number];
  non2xx: number;
}

export function parseWrkReport(text: string): WrkReport {
  const total = /(\d+) requests in ([\d.]+)(m?s)/.exec(text);
  assert.ok(total, `no request count in wrk's output:\n${text}`);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requests: Number(total[1]),
    seconds: Number(total[2]) / (total[3] === 'ms' ? 1000 : 1),
    socketErrors: (errors?.slice(1, 5).map(Number) ?? [0, 0, 0, 0]) as WrkReport['socketErrors'],
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
  };
}
