// Linux errno numbers (include/uapi/asm-generic/errno*.h). Every call of this layer returns a
// non-negative result or one of these negated, as the raw system call does (-EAGAIN, not -1 and
// a global errno): no shared state between calls, nothing to allocate on the fast path.

export const Errno = {
  ENOENT: 2,
  EINTR: 4,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EFAULT: 14,
  EEXIST: 17,
  EINVAL: 22,
  EMFILE: 24,
  ENOSPC: 28,
  EPIPE: 32,
  ELOOP: 40,
  ENOTSOCK: 88,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
} as const;

export type ErrnoName = keyof typeof Errno;

const NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(Errno)) NAMES.set(n, name);

/** The errno name of `n` (either sign): errnoName(-11) === 'EAGAIN'; 'OK' for n >= 0. */
export function errnoName(n: number): string {
  if (n >= 0) return 'OK';
  return NAMES.get(-n) ?? `E${-n}`;
}

/** The positive errno number of a name the stack reports ('ECONNRESET'), EIO (5) if unknown. */
export function errnoOf(name: string): number {
  return (Errno as Record<string, number>)[name] ?? 5;
}

/**
 * Turns a negative result into a Node-style Error (code = errno name) for callers that prefer
 * exceptions: `check(sys.bind(fd, addr), 'bind')`. Returns non-negative results unchanged.
 */
export function check(result: number, syscall: string): number {
  if (result >= 0) return result;
  const code = errnoName(result);
  const err = new Error(`${syscall} failed with ${code}`) as Error & {
    code: string;
    errno: number;
    syscall: string;
  };
  err.code = code;
  err.errno = result;
  err.syscall = syscall;
  throw err;
}
