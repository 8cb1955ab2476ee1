// Issue 13's soak: two engines on the memory device run 24 simulated hours of connection churn
// in virtual time (test/soak/workload.ts): exchanges of random sizes with every byte checked,
// FINs and resets from either side, client aborts, idle keep-alive connections, listeners with
// small backlogs opened and closed under bursts, periods of loss, duplication, reordering and
// corruption, and blackouts in which keep-alive must find the dead. Every hour ends quiet; the
// checkpoint then demands that nothing is left: no connections, timers, ports, queued children,
// sockets or reachable connection objects, every frame home and free, and memory where the
// first hour left it. XDPNET_SOAK_SEED and XDPNET_SOAK_HOURS change the run.
import assert from 'node:assert/strict';
import type { HourShape } from './hour-plan.js';
import type { Tally } from './tally.js';
import { runVirtualDay, type Day, type Hour } from './virtual-day.js';

const SEED = Number(process.env.XDPNET_SOAK_SEED ?? 13);
const HOURS = Number(process.env.XDPNET_SOAK_HOURS ?? 24);

const SHAPE: HourShape = {
  exchangesPerMinute: 10,
  keepAlivesPerHour: 60,
  churnEpisodesPerHour: 3,
  lossPeriodsPerHour: 2,
  blackoutsPerHour: 1,
};

const MIB = 1024 * 1024;

function row(h: Hour): string {
  const t = h.tally;
  const c = h.census;
  const m = c.memory;
  return [
    String(h.hour).padStart(2),
    `opens ${t.exchanges + t.keepAlives + t.churnClients}`,
    `done ${t.completed}`,
    `MB ${((t.bytesUp + t.bytesDown) / 1e6).toFixed(0)}`,
    `rst ${t.resetsSent}/${t.resetsSeen}`,
    `ka ${t.keepAliveExpired}/${t.keepAliveSurvived}`,
    `churn ${t.churnServed}/${t.churnRefused}/${t.churnReset}/${t.churnGaveUp}`,
    `lost ${h.link.lost}`,
    `| conns ${c.a.connections + c.b.connections}`,
    `timers ${c.a.timers + c.b.timers}`,
    `ports ${c.a.ports + c.b.ports}`,
    `free ${c.frames.free}/${c.frames.total}`,
    `alive ${c.trackedAlive}${c.aliveSample === null ? '' : ` (${c.aliveSample})`}`,
    `heap ${(m.data / MIB).toFixed(2)}M+${(m.code / MIB).toFixed(2)}M code`,
    `ab ${(m.arrayBuffers / MIB).toFixed(2)}M`,
    `| ${h.passes} passes ${(h.realMs / 1000).toFixed(1)} s`,
    ...(t.unexpectedCount > 0 ? [`| UNEXPECTED ${t.unexpectedCount}`, ...t.examples] : []),
  ].join(' ');
}

/** The day's totals, for the test's output. */
function summary(day: Day): string {
  const t = day.total;
  const sum = (f: (h: Hour) => number): number => day.hours.reduce((n, h) => n + f(h), 0);
  const opens = t.exchanges + t.keepAlives + t.churnClients;
  const gb = ((t.bytesUp + t.bytesDown) / 1e9).toFixed(2);
  return [
    `day: ${opens} connections opened (${t.connected} connected), ${t.completed} exchanges`,
    `completed, ${gb} GB checked byte by byte, ${t.resetsSent} resets sent and seen,`,
    `${t.aborts} aborts, ${t.keepAliveExpired} keep-alive expiries (${day.doomed} idle`,
    `connections across blackouts), ${t.keepAliveSurvived} idle connections closed by their`,
    `client; churn: ${t.churnListeners} listeners, ${t.churnServed} served, ${t.churnRefused}`,
    `refused, ${t.churnReset} reset, ${t.churnGaveUp} gave up; link: ${t.lossPeriods} loss`,
    `periods, ${t.blackouts} blackouts, ${sum((h) => h.link.lost)} frames lost,`,
    `${sum((h) => h.link.corrupted)} corrupted, ${sum((h) => h.link.duplicated)} duplicated,`,
    `${sum((h) => h.link.reordered)} reordered; ${sum((h) => h.passes)} passes,`,
    `${sum((h) => h.jumps)} clock jumps, ${(sum((h) => h.realMs) / 1000).toFixed(1)} s real time`,
  ].join(' ');
}

/** Listeners that stay all day: the exchange and idle servers on A. */
const DAY_LISTENERS = 2;
/** Heap data (the heap less compiled code) and array buffers may end this far above hour 1. */
const HEAP_DATA_SLACK = 1 * MIB;
const ARRAY_BUFFER_SLACK = MIB / 4;

/** What an hour left behind that should be nothing (or the day's fixed listeners). */
function leftBehind(h: Hour): Record<string, number> {
  const { a, b, frames } = h.census;
  return {
    connections: a.connections + b.connections,
    timers: a.timers + b.timers,
    ports: a.ports + b.ports,
    listeners: a.listeners + b.listeners,
    queuedChildren: a.synQueued + a.acceptQueued + b.synQueued + b.acceptQueued,
    openSockets: h.openSockets,
    agendaEntries: h.agendaEntries,
    framesNotFree: frames.total - frames.free,
    frameProblems: frames.problems.length,
    reachableObjects: h.census.trackedAlive,
  };
}

const NOTHING_LEFT = {
  connections: 0,
  timers: 0,
  ports: 0,
  listeners: DAY_LISTENERS,
  queuedChildren: 0,
  openSockets: 0,
  agendaEntries: 0,
  framesNotFree: 0,
  frameProblems: 0,
  reachableObjects: 0,
};

describe('soak: a virtual day of churn on the memory device', function () {
  it(`runs ${HOURS} simulated hours (seed ${SEED}) and every hour ends with nothing left behind`, async function () {
    this.timeout(900_000);
    const day = await runVirtualDay({
      seed: SEED,
      hours: HOURS,
      shape: SHAPE,
      onHour: (h) => console.log(`      ${row(h)}`),
    });
    const t = day.total;
    console.log(`      ${summary(day)}`);
    assert.deepEqual(Object.fromEntries(t.unexpected), {}, t.examples.join('\n'));
    checkNothingLeft(day.hours);
    checkMemoryFlat(day.hours);
    // Keep-alive ended every idle connection open across a blackout (at one end or both), and
    // no other.
    assert.ok(
      t.keepAliveExpired >= day.doomed,
      `${t.keepAliveExpired} expiries, ${day.doomed} doomed`,
    );
    assert.equal(t.keepAliveSurvived, t.keepAlives - day.doomed);
    checkWorkloadRan(t, day.hours);
  });
});

function checkNothingLeft(hours: Hour[]): void {
  for (const h of hours) {
    const c = h.census;
    const detail = [...c.frames.problems, c.aliveSample ?? ''].join('; ');
    assert.deepEqual(leftBehind(h), NOTHING_LEFT, `hour ${h.hour}: ${detail}`);
  }
}

/** Heap data and array buffers at every checkpoint within a slack of the first hour's. */
function checkMemoryFlat(hours: Hour[]): void {
  const first = hours[0].census.memory;
  for (const h of hours) {
    const m = h.census.memory;
    const mib = (n: number): string => `${(n / MIB).toFixed(2)} MiB`;
    assert.ok(
      m.data <= first.data + HEAP_DATA_SLACK,
      `hour ${h.hour}: heap data ${mib(m.data)}, hour 1 ${mib(first.data)}`,
    );
    assert.ok(
      m.arrayBuffers <= first.arrayBuffers + ARRAY_BUFFER_SLACK,
      `hour ${h.hour}: array buffers ${mib(m.arrayBuffers)}, hour 1 ${mib(first.arrayBuffers)}`,
    );
  }
}

/** The day did what it is for: a soak that quietly did nothing would pass the checks above. */
function checkWorkloadRan(t: Tally, hours: Hour[]): void {
  const lost = hours.reduce((n, h) => n + h.link.lost, 0);
  const corrupted = hours.reduce((n, h) => n + h.link.corrupted, 0);
  const figures = {
    completed: t.completed,
    resetsSent: t.resetsSent,
    resetsSeen: t.resetsSeen,
    aborts: t.aborts,
    keepAliveExpired: t.keepAliveExpired,
    churnServed: t.churnServed,
    churnRefused: t.churnRefused,
    churnReset: t.churnReset,
    lossPeriods: t.lossPeriods,
    blackouts: t.blackouts,
    lost,
    corrupted,
  };
  for (const [what, n] of Object.entries(figures)) assert.ok(n > 0, `no ${what} in the day`);
  assert.equal(t.resetsSeen, t.resetsSent, 'every planned reset was seen by the other end');
}
