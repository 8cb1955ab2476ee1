// A NIC's indirection table maps a hash bucket to an RX queue; the engine's RETA maps a bucket to
// the worker that owns the flow. Following the NIC means an engine RETA whose every bucket names
// the worker that reads the queue the NIC puts that bucket on; programming the NIC means writing
// a queue table that the engine can follow that way. Both index by the hash's low bits (a
// power-of-two table: hash mod size), so a NIC table of N entries repeats every N buckets and
// stands for an engine RETA of 128 or 512 entries when N divides that size, or when a larger
// table itself repeats every 512 entries.
import { IPV6_TUPLE_BYTES } from './toeplitz.js';
import type { RetaSize } from './reta.js';

/** Bytes a key needs to hash an IPv6 4-tuple (the hash reads 32 key bits past each input bit). */
export const MIN_FOLLOWED_KEY_BYTES = IPV6_TUPLE_BYTES + 4;

/** The largest engine RETA (RetaSize). */
const MAX_RETA = 512;

function notSupported(message: string): Error {
  return Object.assign(new Error(message), { code: 'ENOTSUP' });
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** The engine RETA size that holds a NIC table of `entries` (a power of two). */
function retaSizeFor(entries: number): RetaSize {
  return entries <= 128 ? 128 : 512;
}

/**
 * The engine RETA (bucket -> worker) that agrees with the NIC's table (bucket -> queue), given
 * which worker reads each queue. Throws ENOTSUP, saying why, where no engine RETA can agree: a
 * table whose size is not a power of two, one larger than 512 entries that does not repeat every
 * 512, or a queue no worker reads.
 */
export function retaFollowingQueues(
  queueTable: readonly number[],
  workerOfQueue: (queue: number) => number,
): Uint8Array {
  const entries = queueTable.length;
  if (!isPowerOfTwo(entries)) {
    throw notSupported(`its ${entries}-entry indirection table is not a power of two in size`);
  }
  if (entries > MAX_RETA && !repeatsEvery(queueTable, MAX_RETA)) {
    throw notSupported(
      `its ${entries}-entry indirection table does not repeat every ${MAX_RETA} entries, ` +
        `the largest table the engine indexes`,
    );
  }
  const reta = new Uint8Array(retaSizeFor(entries));
  for (let bucket = 0; bucket < reta.length; bucket++) {
    const queue = queueTable[bucket % entries];
    const worker = workerOfQueue(queue);
    if (worker < 0)
      throw notSupported(
        `its indirection table sends flows to queue ${queue}, which no worker reads`,
      );
    reta[bucket] = worker;
  }
  return reta;
}

function repeatsEvery(table: readonly number[], period: number): boolean {
  for (let i = period; i < table.length; i++) if (table[i] !== table[i - period]) return false;
  return true;
}

/**
 * The queue table the engine writes to a NIC with an `entries`-entry table: bucket b to queue
 * (b mod min(entries, 512)) mod workers, so that queue w (read by worker w) gets worker w's even
 * share of the buckets, and a table larger than 512 entries repeats every 512 (which
 * retaFollowingQueues needs).
 */
export function queueTableSpreading(entries: number, workers: number): number[] {
  const period = Math.min(entries, MAX_RETA);
  return Array.from({ length: entries }, (_, b) => (b % period) % workers);
}

/** `key` repeated to `length` bytes: a NIC takes a key of exactly its own key size. */
export function keyOfLength(key: Uint8Array, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => key[i % key.length]);
}
