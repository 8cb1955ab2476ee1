// Runs the soak's simulated day (virtual-day.test.ts): two engines on a memory pair, the
// workload's churn hour after hour, and at every hour's end, once the hour's quiet tail has let
// everything close, a checkpoint of what is left. The whole run repeats exactly from its seed.
import { Xoshiro128 } from '../../ts/dev/memory/prng.js';
import { Agenda } from './agenda.js';
import { takeCensus, Tracker, type Census } from './census.js';
import { HOUR, planHour, type HourShape } from './hour-plan.js';
import { withSeededRandom } from './seeded-random.js';
import { SoakBed } from './soak-bed.js';
import { Tally } from './tally.js';
import { FAIR_WEATHER, Workload } from './workload.js';

export interface DayOptions {
  seed: number;
  hours: number;
  shape: HourShape;
  /** Called with each hour's checkpoint as it is taken. */
  onHour?: (h: Hour) => void;
}

/** What the link did to the frames this hour, both directions together. */
export interface LinkFigures {
  lost: number;
  corrupted: number;
  duplicated: number;
  reordered: number;
}

/** One simulated hour: what happened in it, and what was left at its end. */
export interface Hour {
  hour: number;
  tally: Tally;
  census: Census;
  /** Sockets of either side still open, and workload entries still waiting, at the end. */
  openSockets: number;
  agendaEntries: number;
  link: LinkFigures;
  passes: number;
  jumps: number;
  realMs: number;
}

export interface Day {
  hours: Hour[];
  total: Tally;
  /** Idle connections planned to be open across a whole blackout. */
  doomed: number;
}

function linkFigures(bed: SoakBed): LinkFigures {
  const a = bed.pair.a.counters;
  const b = bed.pair.b.counters;
  return {
    lost: a.lost + b.lost,
    corrupted: a.corrupted + b.corrupted,
    duplicated: a.duplicated + b.duplicated,
    reordered: a.reordered + b.reordered,
  };
}

function since(now: LinkFigures, then: LinkFigures): LinkFigures {
  return {
    lost: now.lost - then.lost,
    corrupted: now.corrupted - then.corrupted,
    duplicated: now.duplicated - then.duplicated,
    reordered: now.reordered - then.reordered,
  };
}

/** Runs the day; the pair is audited once the stacks are closed at its end. */
export function runVirtualDay(o: DayOptions): Promise<Day> {
  return withSeededRandom(o.seed, () => runDay(o));
}

async function runDay(o: DayOptions): Promise<Day> {
  const bed = new SoakBed(FAIR_WEATHER, o.seed);
  const agenda = new Agenda();
  const rng = new Xoshiro128(o.seed);
  const tracker = new Tracker();
  const work = new Workload(bed, agenda, rng, tracker);
  bed.onPass = () => work.trackConnections();
  work.startServers();
  const hours: Hour[] = [];
  for (let hour = 1; hour <= o.hours; hour++) {
    const t0 = performance.now();
    const passes = bed.passes;
    const jumps = bed.jumps;
    const link = linkFigures(bed);
    const h0 = bed.clock.now();
    work.scheduleHour(h0, planHour(rng, o.shape, hour));
    await bed.runUntil(h0 + HOUR, agenda);
    const h: Hour = {
      hour,
      census: await takeCensus(bed, tracker),
      tally: work.takeTally(),
      openSockets: work.openSockets,
      agendaEntries: agenda.size,
      link: since(linkFigures(bed), link),
      passes: bed.passes - passes,
      jumps: bed.jumps - jumps,
      realMs: performance.now() - t0,
    };
    hours.push(h);
    o.onHour?.(h);
  }
  work.stopServers();
  await bed.closeAndAudit();
  const total = new Tally();
  for (const h of hours) total.add(h.tally);
  return { hours, total, doomed: work.doomed };
}
