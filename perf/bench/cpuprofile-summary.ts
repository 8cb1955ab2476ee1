// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function (top N) and by area of the
// stack (checksum, copies, timers, route/neighbour/PMTU lookups, demux, options, device/ring, GC,
// TCB logic), so a profile of `xdpnet perf mem-tcp-stream` reads as a breakdown of a segment's cost.
//
// Profile: node --cpu-prof --cpu-prof-dir=/tmp/prof bin/xdpnet.js perf mem-tcp-stream --bytes 268435456
//
// Run: node dist/perf/bench/cpuprofile-summary.js FILE.cpuprofile [top=25]

import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Area of a function, first match wins: by file, then by name. */
const AREAS: [string, RegExp][] = [
  ['GC', /^\(garbage collector\)/],
  ['idle/program', /^\((idle|program|root)\)/],
  [
    'start-up',
    /^node:|^(internalModuleStat|openFileHandle|fstat|lstat|close|read|parse|evaluate|ModuleWrap)$/,
  ],
  ['clock', /^now$|:now$/],
  ['bench app', /perf\/bench\//],
  ['byte access', /wire\/bytes\.js/],
  ['checksum', /wire\/checksum\.js|Checksum/],
  ['copies', /byte-ring\.js|send-buffer\.js|receive-buffer\.js|copyBytes|copyPayload|:set$/],
  ['timers', /timer-heap\.js|rto\.js|runTimers|refile|nextDeadline/],
  [
    'route/neighbour/PMTU',
    /routes\.js|neighbour-table\.js|pmtu-cache\.js|shared-table\.js|link-output\.js|path-cache\.js|sourceIndex4|pathMtu/,
  ],
  [
    'IP output/input',
    /ip-output\.js|iface\/interface\.js|iface\/context\.js|wire\/ipv4\.js|wire\/ethernet\.js/,
  ],
  ['options/header', /wire\/tcp\.js/],
  [
    'demux',
    /connection-table\.js|listener-table\.js|tcp-stack\.js:(input|dispatch)|Map\.prototype/,
  ],
  ['device/ring', /dev\/memory\/|rings\/|dev\/frame/],
  ['TCB logic', /socket\/tcp\//],
];

function areaOf(name: string): string {
  for (const [area, re] of AREAS) if (re.test(name)) return area;
  return 'other';
}

const file = process.argv[2];
if (file === undefined) throw new Error('usage: cpuprofile-summary FILE.cpuprofile [top]');
const top = Number(process.argv[3] ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

const byId = new Map<number, ProfileNode>();
for (const n of profile.nodes) byId.set(n.id, n);
const selfUs = new Map<string, number>();
let totalUs = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const n = byId.get(profile.samples[i]);
  if (n === undefined) continue;
  const dt = profile.timeDeltas[i] ?? 0;
  const f = n.callFrame;
  const where = f.url.replace(/^.*\/dist\//, '');
  const key = `${where}:${f.functionName || '(anonymous)'}`;
  const label = f.url === '' ? f.functionName : key;
  selfUs.set(label, (selfUs.get(label) ?? 0) + dt);
  totalUs += dt;
}

const rows = [...selfUs.entries()].sort((x, y) => y[1] - x[1]);
const pct = (us: number): string => ((100 * us) / totalUs).toFixed(1).padStart(5);
console.log(`total ${(totalUs / 1000).toFixed(0)} ms sampled`);
console.log(`\ntop ${top} functions by self time:`);
for (const [name, us] of rows.slice(0, top)) {
  console.log(`${pct(us)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  [${areaOf(name)}] ${name}`);
}
const areas = new Map<string, number>();
for (const [name, us] of rows) areas.set(areaOf(name), (areas.get(areaOf(name)) ?? 0) + us);
console.log('\nby area:');
for (const [area, us] of [...areas.entries()].sort((x, y) => y[1] - x[1])) {
  console.log(`${pct(us)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${area}`);
}
