// Live progress of a perf run. Every phase (the engine's, then the baseline's) samples a packet
// counter once an interval, prints the rate on stderr (stdout keeps only the table and the JSON
// line) and keeps the samples for the report's throughput chart. A mode whose sides take turns
// runs several phases of one side and label: each continues where the last one left that series
// (time and packets), so the chart shows one line per side.

export type Side = 'engine' | 'baseline';

/** A cumulative packet count; each mode says what it counts (the same as its `packets`). */
export type PacketCounter = () => Promise<number> | number;

export interface Phase {
  side: Side;
  /** What runs, as the progress line and the chart's legend name it. */
  label: string;
  packets: PacketCounter;
}

export interface ProgressSample {
  side: Side;
  label: string;
  /** Seconds since the phase began. */
  t: number;
  /** Packets since the phase began. */
  packets: number;
  /** Packets per second over the interval that ends here. */
  pps: number;
}

export interface ProgressOptions {
  intervalSeconds: number;
  /** Print a line per sample on stderr; false keeps the samples only (for the report). */
  print: boolean;
}

/** Where a series stands: its seconds and packets so far. */
interface SeriesEnd {
  t: number;
  packets: number;
}

export class ProgressLog {
  readonly samples: ProgressSample[] = [];
  /** Each series' end, by side and label, for a later phase of the same series to go on from. */
  private readonly ends = new Map<string, SeriesEnd>();

  constructor(private readonly options: ProgressOptions) {}

  /** Runs `run` while sampling `phase`'s counter; the last sample is taken when it ends. */
  async during<T>(phase: Phase, run: () => Promise<T>): Promise<T> {
    const key = `${phase.side}:${phase.label}`;
    const from = this.ends.get(key) ?? { t: 0, packets: 0 };
    const ticker = await PhaseTicker.start(phase, this.options, (s) => this.samples.push(s), from);
    try {
      return await run();
    } finally {
      this.ends.set(key, await ticker.stop());
    }
  }
}

/** Samples one phase on a timer; a sample still being read when the next is due is not doubled. */
class PhaseTicker {
  private timer?: ReturnType<typeof setInterval>;
  private reading: Promise<void> | undefined;
  private lastT = 0;
  private lastCount: number;
  /** Samples kept so far. */
  private taken = 0;

  private constructor(
    private readonly phase: Phase,
    private readonly options: ProgressOptions,
    private readonly keep: (sample: ProgressSample) => void,
    private readonly firstCount: number,
    private readonly startedAt: number,
    /** Where the series stood when this phase began. */
    private readonly from: SeriesEnd,
  ) {
    this.lastCount = firstCount;
  }

  static async start(
    phase: Phase,
    options: ProgressOptions,
    keep: (sample: ProgressSample) => void,
    from: SeriesEnd,
  ): Promise<PhaseTicker> {
    const first = await readCount(phase.packets);
    const ticker = new PhaseTicker(phase, options, keep, first ?? 0, performance.now(), from);
    ticker.timer = setInterval(() => ticker.tick(), options.intervalSeconds * 1000);
    return ticker;
  }

  /** Stops sampling; returns where the series stands now, for a phase that continues it. */
  async stop(): Promise<SeriesEnd> {
    clearInterval(this.timer);
    await this.reading;
    // A short tail still counts (a 1 s run with a 1 s interval has nothing else), a sliver not,
    // unless it is all there is: every phase has at least one sample.
    const tail = this.secondsSinceStart() - this.lastT;
    if (this.taken === 0 || tail >= 0.2 * this.options.intervalSeconds) await this.sample();
    // The packets of a sliver left unsampled still belong to the series.
    const count = (await readCount(this.phase.packets)) ?? this.lastCount;
    return {
      t: this.from.t + this.secondsSinceStart(),
      packets: this.from.packets + count - this.firstCount,
    };
  }

  private tick(): void {
    if (this.reading) return;
    this.reading = this.sample().finally(() => (this.reading = undefined));
  }

  private async sample(): Promise<void> {
    const count = await readCount(this.phase.packets);
    if (count === undefined) return;
    const t = this.secondsSinceStart();
    const pps = t > this.lastT ? (count - this.lastCount) / (t - this.lastT) : 0;
    this.lastT = t;
    this.lastCount = count;
    const kept: ProgressSample = {
      side: this.phase.side,
      label: this.phase.label,
      t: round3(this.from.t + t),
      packets: this.from.packets + count - this.firstCount,
      pps: Math.round(pps),
    };
    this.keep(kept);
    this.taken++;
    if (this.options.print) process.stderr.write(progressLine(kept));
  }

  private secondsSinceStart(): number {
    return (performance.now() - this.startedAt) / 1000;
  }
}

/** The counter's value, or undefined when it could not be read (progress never fails a run). */
async function readCount(counter: PacketCounter): Promise<number | undefined> {
  try {
    return await counter();
  } catch {
    return undefined;
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** `  engine: xdpnet rx: 2.0 s, 1234567 packets, 0.617 Mpps` */
export function progressLine(s: ProgressSample): string {
  return `  ${s.side}: ${s.label}: ${s.t.toFixed(1)} s, ${s.packets} packets, ${rate(s.pps)}\n`;
}

function rate(pps: number): string {
  if (pps >= 1e6) return `${(pps / 1e6).toFixed(3)} Mpps`;
  if (pps >= 1e3) return `${(pps / 1e3).toFixed(1)} kpps`;
  return `${pps} pps`;
}
