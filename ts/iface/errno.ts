// Negative errno values returned by the interface's output calls (Linux numbering, as
// sendmsg(2) would report them). 0 means sent or queued for address resolution.

export const IfaceErrno = {
  EAGAIN: -11, // no frame free right now; try after the device reaps
  EINVAL: -22,
  EMSGSIZE: -90, // does not fit the path MTU and must not be fragmented (DF, or too big)
  EADDRNOTAVAIL: -99, // no usable source address (none configured, or still tentative)
  ENETUNREACH: -101, // no route
  ENOBUFS: -105, // the TX ring is full
  EHOSTUNREACH: -113, // the neighbour is known to be unreachable (resolution failed)
} as const;

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(IfaceErrno).map(([name, value]) => [value, name]),
);

/** The errno name of a negative return value ("EMSGSIZE"), or "OK" for 0. Cold path. */
export function errnoName(code: number): string {
  return code === 0 ? 'OK' : (NAMES[code] ?? `E${-code}`);
}
