// The duplicate-address-detection state of each of the interface's IPv6 addresses (RFC 4862
// 5.4), shared by the workers: one worker runs DAD (it takes the claim by CAS), every worker
// answers for an address only once it is preferred.

export const AddressState = {
  /** DAD not started yet: nobody has claimed it. */
  Tentative: 0,
  /** DAD running in the worker that claimed it. */
  Probing: 1,
  Preferred: 2,
  /** DAD found the address in use (RFC 4862 5.4.5): never used. */
  Duplicated: 3,
} as const;

export const ADDRESS_STATE_NAMES = ['tentative', 'probing', 'preferred', 'duplicated'] as const;

/** Words per address: state, claimant, probes sent, deadline (ms, int32-safe relative ticks). */
const WORDS = 4;
export const MAX_ADDRESSES = 32;

export class AddressStates {
  readonly buffer: SharedArrayBuffer;
  private readonly words: Int32Array;
  private readonly deadlines: Float64Array;

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(MAX_ADDRESSES * (WORDS * 4 + 8));
    this.words = new Int32Array(this.buffer, 0, MAX_ADDRESSES * WORDS);
    this.deadlines = new Float64Array(this.buffer, MAX_ADDRESSES * WORDS * 4, MAX_ADDRESSES);
  }

  state(i: number): number {
    return Atomics.load(this.words, i * WORDS);
  }

  /** Whether the address may be used: receive for it, answer for it, send from it. */
  isPreferred(i: number): boolean {
    return this.state(i) === AddressState.Preferred;
  }

  /** Marks every address preferred at once (DAD off). */
  setPreferred(i: number): void {
    Atomics.store(this.words, i * WORDS, AddressState.Preferred);
  }

  /** Takes the DAD claim of address `i` for `worker`; true when this worker must run DAD. */
  claim(i: number, worker: number): boolean {
    const w = this.words;
    if (
      Atomics.compareExchange(w, i * WORDS, AddressState.Tentative, AddressState.Probing) !==
      AddressState.Tentative
    ) {
      return false;
    }
    Atomics.store(w, i * WORDS + 1, worker + 1);
    return true;
  }

  claimant(i: number): number {
    return Atomics.load(this.words, i * WORDS + 1) - 1;
  }

  probes(i: number): number {
    return Atomics.load(this.words, i * WORDS + 2);
  }

  setProbes(i: number, n: number): void {
    Atomics.store(this.words, i * WORDS + 2, n);
  }

  deadline(i: number): number {
    return this.deadlines[i];
  }

  setDeadline(i: number, t: number): void {
    this.deadlines[i] = t;
  }

  /** PROBING -> PREFERRED, unless a duplicate was found meanwhile. */
  finish(i: number): boolean {
    return (
      Atomics.compareExchange(
        this.words,
        i * WORDS,
        AddressState.Probing,
        AddressState.Preferred,
      ) === AddressState.Probing
    );
  }

  /** A duplicate was seen (RFC 4862 5.4.5): the address is never used. */
  markDuplicated(i: number): boolean {
    const old = Atomics.exchange(this.words, i * WORDS, AddressState.Duplicated);
    return old !== AddressState.Duplicated;
  }
}
