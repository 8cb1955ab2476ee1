// The test bed against the real kernel: veth pairs, namespaces, tc, and the processes that own
// them. Runs as root; every test removes what it made in afterEach, also when it fails.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/index.js';
import { stateDir } from '../../ts/testbed/state.js';

const TESTBED_MODULE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../ts/testbed/index.js',
);
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/xdpnet.js');

function sh(argv: string[]): string {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
}

function tryRun(argv: string[]): number {
  try {
    execFileSync(argv[0], argv.slice(1), { stdio: 'ignore', timeout: 10_000 });
    return 0;
  } catch {
    return 1;
  }
}

const ifindex = (name: string): number =>
  Number(fs.readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'));
const linkExists = (name: string): boolean => fs.existsSync(`/sys/class/net/${name}`);
const netnsExists = (name: string): boolean => fs.existsSync(`/run/netns/${name}`);
const stateFile = (name: string): string => path.join(stateDir(), `${name}.json`);

interface AddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  tentative?: boolean;
}

function peerAddresses(bed: TestBed): AddrInfo[] {
  const [link] = JSON.parse(
    sh(['ip', '-n', bed.netns, '-j', 'addr', 'show', 'dev', bed.peerIf]),
  ) as { addr_info: AddrInfo[] }[];
  return link.addr_info;
}

function engineAddresses(bed: TestBed): AddrInfo[] {
  const [link] = JSON.parse(sh(['ip', '-j', 'addr', 'show', 'dev', bed.engineIf])) as {
    addr_info: AddrInfo[];
  }[];
  return link.addr_info;
}

function assertGone(bed: { name: string; engineIf: string; peerIf: string; netns: string }): void {
  assert.equal(linkExists(bed.engineIf), false, `${bed.engineIf} still exists`);
  assert.equal(linkExists(bed.peerIf), false, `${bed.peerIf} still exists`);
  assert.equal(netnsExists(bed.netns), false, `netns ${bed.netns} still exists`);
  assert.equal(fs.existsSync(stateFile(bed.name)), false, `state of ${bed.name} still exists`);
}

/** Beds of this process recorded in the state directory. */
function ownRecords(): string[] {
  return fs
    .readdirSync(stateDir())
    .filter((f) => f.endsWith('.json'))
    .filter((f) => {
      const s = JSON.parse(fs.readFileSync(path.join(stateDir(), f), 'utf8')) as { pid: number };
      return s.pid === process.pid;
    });
}

/** Runs node with a script that brings a bed up and prints its JSON; resolves with that JSON. */
function childWithBed(script: string): Promise<{
  child: ChildProcess;
  bed: { name: string; engineIf: string; peerIf: string; netns: string };
}> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, TESTBED_MODULE },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (out.includes('\n')) resolve({ child, bed: JSON.parse(out.split('\n')[0]) });
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before its bed was up`)));
  });
}

const UP_AND_WAIT = `
const { TestBed } = await import(process.env.TESTBED_MODULE);
const bed = await TestBed.up();
console.log(JSON.stringify(bed));
setInterval(() => {}, 1000);
`;

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('TestBed (veth + netns, needs root)', function () {
  this.timeout(60_000);
  const beds: TestBed[] = [];
  const children: ChildProcess[] = [];
  const cleanups: (() => void)[] = [];

  async function up(opts?: Parameters<typeof TestBed.up>[0]): Promise<TestBed> {
    const bed = await TestBed.up(opts);
    beds.push(bed);
    return bed;
  }

  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exited(child);
    }
    for (const bed of beds.splice(0)) await bed.down();
    for (const cleanup of cleanups.splice(0)) cleanup();
    await TestBed.reapStale(); // beds of children killed above
  });

  it('creates both ends: peer addressed with tx checksumming off, engine end bare', async () => {
    const bed = await up({ queues: 2, mtu: 9000 });
    assert.match(bed.engineIf, /^xn\d+e$/);
    assert.ok(bed.engineIf.length <= 15 && bed.peerIf.length <= 15);
    assert.ok(linkExists(bed.engineIf));
    assert.equal(linkExists(bed.peerIf), false, 'the peer end must live in the namespace');
    assert.ok(netnsExists(bed.netns));

    const peer = peerAddresses(bed);
    const v4 = peer.find((a) => a.family === 'inet');
    const v6 = peer.find((a) => a.family === 'inet6' && a.local === bed.peerIpv6);
    assert.deepEqual([v4?.local, v4?.prefixlen], [bed.peerIpv4, 24]);
    assert.equal(v6?.prefixlen, 64);
    assert.equal(v6?.tentative, undefined, 'peer IPv6 must be usable at once (nodad)');
    const offload = sh(['ip', 'netns', 'exec', bed.netns, 'ethtool', '-k', bed.peerIf]);
    assert.match(offload, /^tx-checksumming: off/m);
    const qdisc = sh(['ip', 'netns', 'exec', bed.netns, 'tc', 'qdisc', 'show', 'dev', bed.peerIf]);
    assert.match(qdisc, /^qdisc pfifo \S+ root .*limit 10000p/m, 'the peer end queues like a NIC');

    assert.deepEqual(engineAddresses(bed), [], 'engine end must have no kernel address');
    const [engine] = JSON.parse(sh(['ip', '-j', '-d', 'link', 'show', 'dev', bed.engineIf])) as {
      operstate: string;
      mtu: number;
      address: string;
      num_rx_queues: number;
    }[];
    assert.equal(engine.operstate, 'UP');
    assert.equal(engine.mtu, 9000);
    assert.equal(engine.address, bed.engineMac);
    assert.equal(engine.num_rx_queues, 2);

    const state = JSON.parse(fs.readFileSync(stateFile(bed.name), 'utf8')) as { pid: number };
    assert.equal(state.pid, process.pid);
    // The peer, a real Linux host, answers on its address.
    const ping = await bed.exec(['ping', '-c', '1', '-W', '2', bed.peerIpv4]);
    assert.equal(ping.code, 0, ping.stderr);
  });

  it('gives two beds up at once distinct names, networks and MACs', async () => {
    const a = await up();
    const b = await up();
    for (const key of ['name', 'engineIf', 'peerIf', 'netns', 'engineMac', 'peerMac'] as const) {
      assert.notEqual(a[key], b[key], key);
    }
    assert.notEqual(
      a.peerIpv4.split('.').slice(0, 3).join('.'),
      b.peerIpv4.split('.').slice(0, 3).join('.'),
    );
    assert.notEqual(a.peerIpv6, b.peerIpv6);
    assert.ok(linkExists(a.engineIf) && linkExists(b.engineIf));
    assert.equal(peerAddresses(b).find((x) => x.family === 'inet')?.local, b.peerIpv4);
  });

  it('down() removes everything, kills peer processes and is idempotent', async () => {
    const bed = await up();
    const sleeper = bed.spawn(['sleep', '300']);
    await new Promise((resolve) => sleeper.once('spawn', resolve));
    await bed.down();
    assertGone(bed);
    await exited(sleeper);
    assert.equal(sleeper.signalCode, 'SIGKILL');
    await bed.down();
    await assert.rejects(bed.exec(['true']), { code: 'ENODEV' });
  });

  it('exec() returns exit code and output, feeds input and enforces its timeout', async () => {
    const bed = await up();
    const cat = await bed.exec(['cat'], { input: 'hello' });
    assert.deepEqual([cat.code, cat.stdout], [0, 'hello']);
    const ip = await bed.exec(['ip', '-br', 'link', 'show', 'dev', bed.peerIf]);
    assert.match(ip.stdout, new RegExp(`^${bed.peerIf}`));
    assert.equal((await bed.exec(['false'])).code, 1);
    await assert.rejects(bed.exec(['sleep', '5'], { timeoutMs: 200 }), { code: 'ETIMEDOUT' });
  });

  it('removes on the next up() a bed whose owner was killed with SIGKILL', async () => {
    const { child, bed: dead } = await childWithBed(UP_AND_WAIT);
    children.push(child);
    assert.ok(linkExists(dead.engineIf));
    child.kill('SIGKILL');
    await exited(child);
    assert.ok(linkExists(dead.engineIf), 'nothing should have removed it yet');
    const deadIfindex = ifindex(dead.engineIf);
    const next = await up();
    if (next.name === dead.name) {
      // The slot was free again and reused: the interface must be a new one, owned by us.
      assert.notEqual(ifindex(next.engineIf), deadIfindex);
      assert.equal(TestBed.list().find((b) => b.name === next.name)?.pid, process.pid);
    } else {
      assertGone(dead);
    }
  });

  it('removes itself when its process exits or gets SIGTERM', async () => {
    const exiting = await childWithBed(
      UP_AND_WAIT.replace('setInterval(() => {}, 1000);', 'process.exit(0);'),
    );
    await exited(exiting.child);
    assertGone(exiting.bed);

    const { child, bed } = await childWithBed(UP_AND_WAIT);
    children.push(child);
    child.kill('SIGTERM');
    await exited(child);
    assert.equal(child.signalCode, 'SIGTERM', 'the default action of SIGTERM must be kept');
    assertGone(bed);
  });

  it('leaves nothing behind when up() fails half-way (invalid MTU)', async () => {
    const linksBefore = new Set(fs.readdirSync('/sys/class/net'));
    await assert.rejects(TestBed.up({ mtu: 70000 }), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ERANGE');
      assert.match(err.message, /mtu/);
      return true;
    });
    assert.deepEqual(ownRecords(), []);
    const created = fs.readdirSync('/sys/class/net').filter((l) => !linksBefore.has(l));
    for (const link of created) {
      // Only beds of other processes may have appeared meanwhile.
      const slot = /^xn(\d+)[ep]$/.exec(link)?.[1];
      assert.ok(slot && fs.existsSync(stateFile(`xdpnet-${slot}`)), `left behind: ${link}`);
    }
  });

  it('applies impairments on the peer egress and clears them', async () => {
    const bed = await up();
    // A kernel address on the engine end lets the peer's own ping measure the loss.
    const kernelIp = bed.engineIpv4.replace(/\.1$/, '.3');
    await bed.addKernelAddressOnEngineSide(`${kernelIp}/24`);
    const ping = (n: number) =>
      bed.exec(['ping', '-c', String(n), '-i', '0.002', '-W', '1', '-q', kernelIp], {
        timeoutMs: 20_000,
      });
    assert.equal((await ping(1)).code, 0);

    await bed.setNetem({ lossPct: 100, rateMbit: 50 });
    const qdiscs = (await bed.exec(['tc', 'qdisc', 'show', 'dev', bed.peerIf])).stdout;
    const filters = (await bed.exec(['tc', 'filter', 'show', 'dev', bed.peerIf, 'egress'])).stdout;
    assert.ok(
      /netem .*loss 100%.*rate 50Mbit/.test(qdiscs) ||
        (/qdisc tbf .*rate 50Mbit/.test(qdiscs) && /bpf.*\n.*mirred/.test(filters)),
      `no impairment in:\n${qdiscs}\n${filters}`,
    );
    assert.match((await ping(5)).stdout, / 0 received/);

    await bed.setNetem({ lossPct: 50 });
    const half = /(\d+) received/.exec((await ping(200)).stdout)?.[1];
    assert.ok(Number(half) > 40 && Number(half) < 160, `50% loss delivered ${half}/200`);

    await bed.clearNetem();
    const cleared = (await bed.exec(['tc', 'qdisc', 'show', 'dev', bed.peerIf])).stdout;
    assert.doesNotMatch(cleared, /netem|tbf|clsact/);
    assert.match(cleared, /^qdisc pfifo \S+ root .*limit 10000p/m);
    assert.match((await ping(20)).stdout, / 20 received/);
  });

  it('uses netem for delay where the kernel has it, else refuses with ENOTSUP', async () => {
    const bed = await up();
    try {
      await bed.setNetem({ delayMs: 10, jitterMs: 2, reorderPct: 5 });
      const qdiscs = (await bed.exec(['tc', 'qdisc', 'show', 'dev', bed.peerIf])).stdout;
      assert.match(qdiscs, /netem .*delay 10ms\s+2ms/);
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOTSUP');
      assert.match((err as Error).message, /CONFIG_NET_SCH_NETEM/);
    }
    await assert.rejects(bed.setNetem({ reorderPct: 5 }), { code: 'EINVAL' });
  });

  it('adds peer neighbour entries for the engine with staticNeighbours', async () => {
    const bed = await up({ staticNeighbours: true });
    const neigh = sh(['ip', '-n', bed.netns, 'neigh', 'show', 'dev', bed.peerIf]);
    assert.match(neigh, new RegExp(`${bed.engineIpv4} lladdr ${bed.engineMac} PERMANENT`));
    assert.match(neigh, new RegExp(`${bed.engineIpv6} lladdr ${bed.engineMac} PERMANENT`));
  });

  it('refuses to remove anything it did not create', async () => {
    await assert.rejects(TestBed.downByName('eth0'), { code: 'EINVAL' });
    await assert.rejects(TestBed.downByName('h3foreign'), { code: 'EINVAL' });

    // A record pointing at someone else's interfaces (here a veth of this test) is refused.
    sh(['ip', 'link', 'add', 'h3tfa', 'type', 'veth', 'peer', 'name', 'h3tfb']);
    cleanups.push(() => tryRun(['ip', 'link', 'del', 'h3tfa']) && undefined);
    const forged = stateFile('xdpnet-511');
    fs.mkdirSync(stateDir(), { recursive: true });
    fs.writeFileSync(
      forged,
      JSON.stringify({
        version: 1,
        slot: 511,
        name: 'xdpnet-511',
        netns: 'xdpnet-511',
        engineIf: 'h3tfa',
        peerIf: 'h3tfb',
        pid: 999_999_999,
        pidStart: null,
        persist: false,
        queues: 1,
        mtu: 1500,
        createdAt: new Date().toISOString(),
      }),
      { flag: 'wx' },
    );
    cleanups.push(() => fs.rmSync(forged, { force: true }));
    await assert.rejects(TestBed.downByName('xdpnet-511'), { code: 'EPERM' });
    await TestBed.reapStale();
    assert.ok(linkExists('h3tfa'), 'a foreign interface was deleted');
    assert.equal(
      TestBed.list().some((b) => b.name === 'xdpnet-511'),
      false,
    );

    const bed = await up();
    await assert.rejects(bed.addKernelAddressOnEngineSide('10.1.2.3/24'), { code: 'EINVAL' });
    await assert.rejects(bed.addKernelAddressOnEngineSide('2001:db8::1/64'), { code: 'EINVAL' });
  });

  it('xdpnet testbed up/list/down: a persistent bed outlives the command', async () => {
    const node = (args: string[]) => sh([process.execPath, CLI, 'testbed', ...args]);
    const bed = JSON.parse(node(['up', '--static-neighbours', '--mtu', '2000'])) as {
      name: string;
      engineIf: string;
      peerIf: string;
      netns: string;
      persist: boolean;
    };
    cleanups.push(() => tryRun([process.execPath, CLI, 'testbed', 'down', bed.name]) && undefined);
    assert.equal(bed.persist, true);
    assert.ok(linkExists(bed.engineIf), 'the bed must stay up after the command exits');
    await up(); // reaping stale beds must spare it
    assert.ok(linkExists(bed.engineIf));
    const listed = JSON.parse(node(['list'])) as { name: string }[];
    assert.ok(listed.some((b) => b.name === bed.name));
    const removed = JSON.parse(node(['down', bed.name])) as { removed: { name: string }[] };
    assert.deepEqual(
      removed.removed.map((b) => b.name),
      [bed.name],
    );
    assertGone(bed);
  });
});
