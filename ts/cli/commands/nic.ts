// `xdpnet nic IFACE`: what an interface offers the engine and what the engine would do there.
// The driver, queues and channels, XDP features and AF_XDP zero-copy (netdev netlink), the RSS
// hash function, key, indirection table and hashed fields, the offloads (ethtool), then the
// engine's choices: XDP attach mode, zero-copy or copy mode and why, need_wakeup, busy polling,
// RSS, and how the queues would be shared out for a few worker counts. Reads only: attaches
// nothing and needs no privileges. --json gives the same as one JSON object.
import os from 'node:os';
import { parseCommand, type Command, type Flags } from '../args.js';
import { columns, printHelp, usageOf } from '../help.js';
import { integerIn } from '../values.js';
import type { NicInfo, Unsupported } from '../../dev/xdp/nic-info.js';
import type { EngineOnNic } from '../../runtime/nic-plan.js';

const flags = {
  json: { help: 'print one JSON object: what the interface reports, and `engine`' },
  workers: {
    value: 'N',
    help: 'plan for N workers only (default: 1, 2, the queue count and the CPU count)',
    check: integerIn(1, 1024),
  },
} satisfies Flags;

export const command: Command<typeof flags> = {
  name: 'nic',
  summary:
    'what an interface offers the engine (XDP, zero-copy, queues, RSS, offloads) and what the engine would do there',
  operands: { usage: '<iface>', min: 1, max: 1 },
  flags,
  notes:
    'Reads only (ethtool and netdev netlink): attaches nothing, needs no privileges.\n' +
    'Examples: xdpnet nic eth0; xdpnet nic eth0 --json | jq .xdp\n',
};

/** The offloads that matter to the engine, in the order shown; --json has them all. */
const ENGINE_OFFLOADS = [
  'rx-checksum',
  'rx-hashing',
  'rx-ntuple-filter',
  'rx-lro',
  'rx-gro',
  'rx-gro-hw',
  'rx-vlan-hw-parse',
  'tx-checksum-ip-generic',
  'tx-checksum-ipv4',
  'tx-checksum-ipv6',
  'tx-scatter-gather',
  'tx-tcp-segmentation',
];

function isUnsupported(reading: object): reading is Unsupported {
  return 'unsupported' in reading;
}

function notReported(u: Unsupported): string {
  return `not reported: ${u.unsupported}`;
}

function hex(bytes: number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** A RETA as runs: "0 1 2 3 (x32)" for a table that repeats its first stretch, else in full. */
function reta(table: number[]): string {
  for (let period = 1; period <= table.length / 2; period++) {
    if (table.length % period !== 0) continue;
    if (table.every((q, i) => q === table[i % period])) {
      return `${table.slice(0, period).join(' ')} (x${table.length / period})`;
    }
  }
  return table.join(' ');
}

function interfaceRows(info: NicInfo): [string, string][] {
  const rows: [string, string][] = [];
  const ch = info.channels;
  rows.push([
    'queues',
    (isUnsupported(ch)
      ? `channels ${notReported(ch)}`
      : `channels rx ${ch.rx}, tx ${ch.tx}, combined ${ch.combined} (max rx ${ch.maxRx}, tx ${ch.maxTx}, combined ${ch.maxCombined})`) +
      `\n${info.rxQueues} RX queue${info.rxQueues === 1 ? '' : 's'} for AF_XDP to bind (real_num_rx_queues)`,
  ]);
  const xdp = info.xdp;
  if (isUnsupported(xdp)) {
    rows.push(['XDP', notReported(xdp)]);
  } else {
    rows.push([
      'XDP',
      `${xdp.xdpFeatures.join(', ') || 'none: no native XDP (generic XDP only)'} (netdev xdp-features)`,
    ]);
    const zc = xdp.xdpFeatures.includes('xsk-zerocopy');
    const segs =
      xdp.xdpZcMaxSegs === undefined
        ? ''
        : xdp.xdpZcMaxSegs > 1
          ? `, frames of up to ${xdp.xdpZcMaxSegs} segments`
          : ', single-buffer frames';
    rows.push(['zero-copy', zc ? `yes (xsk-zerocopy${segs})` : 'no (no xsk-zerocopy)']);
    const list = (l: string[] | undefined) =>
      l === undefined ? 'not reported' : l.join(', ') || 'none';
    rows.push([
      'XDP metadata',
      `RX: ${list(xdp.xdpRxMetadata)}; AF_XDP TX offloads: ${list(xdp.xskFeatures)}`,
    ]);
  }
  const rss = info.rss;
  if (isUnsupported(rss)) {
    rows.push(['RSS', notReported(rss)]);
  } else {
    rows.push(['RSS', `${rss.hashFunction}, input transform ${rss.inputTransform}`]);
    rows.push([
      'RSS key',
      rss.key.length ? `${hex(rss.key)} (${rss.key.length} bytes)` : 'none reported',
    ]);
    rows.push([
      'RETA',
      rss.indirectionTable.length
        ? `${rss.indirectionTable.length} entries: ${reta(rss.indirectionTable)}`
        : 'none reported',
    ]);
  }
  const hashes = Object.entries(info.flowHash).map(([flow, h]) =>
    isUnsupported(h)
      ? `${flow}: not reported (${h.code})`
      : `${flow}: ${h.fields.join(', ') || 'not hashed'}`,
  );
  rows.push(['hash fields', hashes.join('\n')]);
  const off = info.offloads;
  if (isUnsupported(off)) {
    rows.push(['offloads', notReported(off)]);
  } else {
    const shown = ENGINE_OFFLOADS.flatMap((name) => {
      const o = off.find((f) => f.name === name);
      return o ? [`${name} ${o.active ? 'on' : 'off'}${o.fixed ? ' [fixed]' : ''}`] : [];
    });
    const lro = off.find((f) => f.name === 'rx-lro');
    const lroNote = lro?.active
      ? `\nrx-lro is on: most drivers refuse native XDP with LRO (ethtool -K ${info.name} lro off)`
      : '';
    rows.push(['offloads', `${shown.join(', ')} (all ${off.length}: --json)${lroNote}`]);
  }
  return rows;
}

function rssText(rss: EngineOnNic['rss']): string {
  const notes = rss.notes.map((n) => `\nnote: ${n}`).join('');
  return `${rss.mode}: ${rss.why}${notes}\n--rss follow: ${rss.follow}\n--rss program: ${rss.program}`;
}

function engineRows(plan: EngineOnNic): [string, string][] {
  const workers = plan.workers.map(
    (w) =>
      `${w.workers}: ${w.summary}${w.isDefault ? ' [default: one per queue]' : ''}` +
      (w.refused ? `\n   ${w.refused}` : ''),
  );
  return [
    ['XDP program', `${plan.xdpMode.mode}: ${plan.xdpMode.why}`],
    [
      'AF_XDP',
      `${plan.bindMode.mode === 'zerocopy' ? 'zero-copy' : plan.bindMode.mode === 'copy' ? 'copy mode' : 'auto'}: ${plan.bindMode.why}`,
    ],
    ['need_wakeup', `${plan.needWakeup.on ? 'on' : 'off'}: ${plan.needWakeup.why}`],
    ['busy polling', `${plan.busyPoll.sets}\nneeds ${plan.busyPoll.needs}`],
    ['RSS', rssText(plan.rss)],
    ['workers', workers.join('\n')],
  ];
}

/** Text wrapped at `width` columns, at spaces; existing line breaks kept. */
function wrap(text: string, width: number): string {
  return text
    .split('\n')
    .map((line) => {
      const out: string[] = [];
      let rest = line;
      while (rest.length > width) {
        const cut = rest.lastIndexOf(' ', width);
        if (cut <= 0) break;
        out.push(rest.slice(0, cut));
        rest = rest.slice(cut + 1);
      }
      out.push(rest);
      return out.join('\n');
    })
    .join('\n');
}

/** Two columns, the right one wrapped to fit 100 columns. */
function table(rows: [string, string][]): string {
  const left = Math.max(...rows.map(([l]) => l.length)) + 4;
  return columns(rows.map(([l, r]) => [l, wrap(r, Math.max(40, 100 - left))]));
}

export function formatNic(info: NicInfo, plan: EngineOnNic): string {
  const head =
    `${info.name}: driver ${info.driver || '(none reported)'}, MTU ${info.mtu}, MAC ${info.mac}, ` +
    `ifindex ${info.ifindex}\n\n`;
  return (
    head +
    table(interfaceRows(info)) +
    '\nwhat the engine would do here (xdpnet run / perf; --xdp-mode, --bind-mode override):\n' +
    table(engineRows(plan))
  );
}

export async function run(argv: string[]): Promise<number> {
  const { help, operands, values } = parseCommand(command, argv);
  if (help) return printHelp(usageOf(command));
  const [ifname] = operands;
  // Loaded only now, so --help and usage errors need no addon.
  const { nicInfo } = await import('../../dev/xdp/nic-info.js');
  const { engineOnNic } = await import('../../runtime/nic-plan.js');
  const info = nicInfo(ifname);
  const plan = engineOnNic(
    info,
    os.availableParallelism(),
    values.workers === undefined ? undefined : [values.workers],
  );
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...info, engine: plan }, null, 2)}\n`);
  } else {
    process.stdout.write(formatNic(info, plan));
  }
  return 0;
}
