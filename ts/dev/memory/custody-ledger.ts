// Frame accounting for a memory pair. Frames move between the ports by descriptor (zero copy),
// so each port keeps a ledger over *all* frames of the pair saying which of them it has and
// where: one byte per frame, in shared memory, written only by that port. At a quiet point every
// frame is in exactly one port's custody or in one of the pair's rings; auditMemoryPair() checks
// that from the two ledgers and the ring contents.

export const enum Custody {
  /** Not with this port: with the peer, or in a ring between them. */
  Away = 0,
  /** In this port's free stack (only a port's own frames are ever free there). */
  Free = 1,
  /** Held by the application: received, or allocated for building a packet. */
  App = 2,
  /** Sent and waiting in this port's fault stage (reorder hold or delay queue). */
  Queued = 3,
}

export const custodyNames = ['away', 'free', 'app', 'queued'] as const;

export type CustodyCensus = Record<(typeof custodyNames)[number], number>;

export class CustodyLedger {
  constructor(
    /** One byte per frame of the pair. */
    readonly places: Uint8Array,
    /** log2 of the frame size: frame index = addr >>> shift. */
    private readonly shift: number,
  ) {}

  /** Moves the frame holding `addr` from `from` to `to`; false (and no move) if it was elsewhere. */
  move(addr: number, from: Custody, to: Custody): boolean {
    const i = addr >>> this.shift;
    if (i >= this.places.length || this.places[i] !== from) return false;
    this.places[i] = to;
    return true;
  }

  /** Where the frame holding `addr` is, or -1 for an address outside the pair's frames. */
  placeOf(addr: number): number {
    const i = addr >>> this.shift;
    return i < this.places.length ? this.places[i] : -1;
  }

  /** How many frames are in each place, over the frame index range [first, end). Cold path. */
  census(first = 0, end = this.places.length): CustodyCensus {
    const counts = [0, 0, 0, 0];
    for (let i = first; i < end; i++) counts[this.places[i]]++;
    return { away: counts[0], free: counts[1], app: counts[2], queued: counts[3] };
  }
}
