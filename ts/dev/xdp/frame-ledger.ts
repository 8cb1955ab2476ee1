// Frame accounting: every frame a device owns is in exactly one place at any quiet point. The
// ledger records each frame's place and counts transitions that start from the wrong place (a
// double free or a leak shows up there), so tests can check the invariant after every run.

export const enum FramePlace {
  /** In the device's free stack. */
  Free = 0,
  /** Given to the kernel: in the fill ring or, once a packet landed in it, the RX ring. */
  Fill = 1,
  /** Held by the application: a received packet, or a frame being built for TX. */
  App = 2,
  /** Given to the kernel for sending: in the TX ring or the completion ring. */
  Tx = 3,
}

export const framePlaceNames = ['free', 'fill', 'app', 'tx'] as const;

export class FrameLedger {
  /** One byte per frame of the device's range. */
  readonly places: Uint8Array;
  /** Transitions that found a frame somewhere other than expected. */
  violations = 0;

  constructor(
    readonly firstFrame: number,
    readonly frameCount: number,
  ) {
    this.places = new Uint8Array(frameCount);
  }

  /** Moves frame `frame` (absolute index) from `from` to `to`, counting a violation if misplaced. */
  move(frame: number, from: FramePlace, to: FramePlace): void {
    const i = frame - this.firstFrame;
    if (i < 0 || i >= this.frameCount || this.places[i] !== from) {
      this.violations++;
      return;
    }
    this.places[i] = to;
  }

  /** How many frames are in each place. Cold path. */
  census(): Record<(typeof framePlaceNames)[number], number> {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < this.frameCount; i++) counts[this.places[i]]++;
    return { free: counts[0], fill: counts[1], app: counts[2], tx: counts[3] };
  }
}
