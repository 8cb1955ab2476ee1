// Node-style errors for the public APIs: system errors shaped like libuv's (code, negative
// errno, syscall, address, port; message "bind EADDRINUSE 0.0.0.0:41234" plus a hint) and
// Node's ERR_* argument/state errors.

import { constants } from 'node:os';

export interface SystemErrorFields {
  code: string;
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
}

export type SystemError = Error & SystemErrorFields;
export type CodedError = Error & { code: string };

const HINTS: Record<string, string> = {
  EADDRINUSE: 'another socket in this worker holds the port; pick another or set reuseAddr',
  EADDRNOTAVAIL: 'bind to one of the engine interface addresses, or to the wildcard',
  EMSGSIZE: 'the datagram exceeds the most UDP carries (65507 bytes over IPv4, 65527 over IPv6)',
  EHOSTUNREACH: 'the neighbour did not answer address resolution; check the peer is up',
  ENETUNREACH: 'no route to that address; add a route or gateway to the interface config',
  ECONNREFUSED:
    'nothing listens on that port (the peer answered a TCP SYN with RST, or UDP with ICMP port unreachable)',
  ENOBUFS: 'the send queue is full; wait for the send callback before sending more',
  EBADF: 'the socket is not bound yet; wait for the listening event',
  EINVAL: 'check the arguments',
};

/** Linux errno number for a name (positive), 0 when unknown. */
export function errnoNumber(code: string): number {
  const table = constants.errno as Record<string, number>;
  return table[code] ?? 0;
}

/** The errno name of a negative errno number ("EMSGSIZE"). */
export function errnoCode(errno: number): string {
  const table = constants.errno as Record<string, number>;
  for (const name of Object.keys(table)) if (table[name] === -errno) return name;
  return `E${-errno}`;
}

/**
 * A system error like Node's ExceptionWithHostPort: `${syscall} ${code} ${address}:${port}`, with
 * errno negative as libuv reports it.
 */
export function systemError(
  code: string,
  syscall: string,
  address?: string,
  port?: number,
): SystemError {
  let where = '';
  if (address !== undefined) where = port !== undefined ? ` ${address}:${port}` : ` ${address}`;
  const hint = HINTS[code];
  const err = new Error(`${syscall} ${code}${where}${hint ? ` (${hint})` : ''}`) as SystemError;
  err.errno = -errnoNumber(code);
  err.code = code;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined) err.port = port;
  return err;
}

/** A Node ERR_* error (ERR_SOCKET_DGRAM_IS_CONNECTED, ERR_SOCKET_BAD_PORT, ...). */
export function nodeError(
  code: string,
  message: string,
  Ctor: ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor = Error,
): CodedError {
  const err = new Ctor(message) as CodedError;
  err.code = code;
  return err;
}
