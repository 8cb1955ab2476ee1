// The metrics endpoint of a running engine (issue 12), on the test bed with the kernel peer: an
// engine with two workers serves TCP and UDP echo and Prometheus metrics on 127.0.0.1; the peer
// sends UDP datagrams and opens TCP connections; two scrapes, parsed with a Prometheus text
// parser, must show every worker's counters, increases in line with what the peer sent, and a
// frame account that adds up; scrapes taken while the peer sends parse whole and climb. Also: the address is checked before anything starts, a taken port
// fails Engine.start with EADDRINUSE (and leaves nothing attached), the endpoint closes with the
// engine, and `xdpnet run --metrics` serves the same.
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import { Engine } from '../../ts/runtime/engine.js';
import { nodeXdp } from '../../ts/dev/xdp/native.js';
import type { MetricsOption } from '../../ts/runtime/metrics/address.js';
import { runPeerPython } from '../support/peer-namespace.js';
import { PY_ECHO_TRAFFIC } from '../support/py-echo-traffic.js';
import { sample, samples, scrape, type Scrape } from '../support/prometheus.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const app = path.join(here, '../introspection/apps/echo-both.js');
const cli = path.join(here, '../../../bin/xdpnet.js');

const DATAGRAMS = 300;
const CONNECTIONS = 20;
/** Round trips per flow for the scrapes taken during traffic: long enough to scrape many times. */
const LONG_DATAGRAMS = 2500;
const LONG_FLOWS = 2;

/** The sum over workers of `name`'s increase from `a` to `b`. */
function increase(a: Scrape, b: Scrape, name: string): number {
  const before = new Map(samples(a, name).map((s) => [s.labels.worker, s.value]));
  return samples(b, name).reduce((n, s) => n + s.value - (before.get(s.labels.worker) ?? 0), 0);
}

function checkWorkers(s: Scrape, workers: number): void {
  for (let w = 0; w < workers; w++) {
    const worker = String(w);
    for (const name of [
      'xdpnet_ip_in_delivers_total',
      'xdpnet_icmp_out_echo_reps_total',
      'xdpnet_udp_in_datagrams_total',
      'xdpnet_udp_no_ports_total',
      'xdpnet_tcp_in_segs_total',
      'xdpnet_tcp_curr_estab',
      'xdpnet_tcpext_tcp_timeouts_total',
      'xdpnet_iface_rx_frames_total',
      'xdpnet_loop_passes_total',
      'xdpnet_xsk_rx_dropped_total',
      'xdpnet_xsk_rx_invalid_descs_total',
      'xdpnet_xsk_tx_invalid_descs_total',
      'xdpnet_xsk_rx_ring_full_total',
      'xdpnet_xsk_rx_fill_ring_empty_descs_total',
      'xdpnet_xsk_tx_ring_empty_descs_total',
    ]) {
      assert.ok(Number.isFinite(sample(s, name, { worker })), `${name} of worker ${w}`);
    }
    assert.equal(sample(s, 'xdpnet_drops_total', { worker, reason: 'tcp_bad_checksum' }), 0);
    assert.equal(sample(s, 'xdpnet_xsk_ring_size', { worker, ring: 'fill' }), 4096);
    checkFrameAccount(s, worker);
  }
}

/** The places of a worker's frames add up to the frames it owns, each place once. */
function checkFrameAccount(s: Scrape, worker: string): void {
  const places = samples(s, 'xdpnet_frames', { worker });
  assert.deepEqual(places.map((p) => p.labels.place).sort(), [
    'app',
    'completion',
    'fill',
    'free',
    'rx',
    'tx',
    'tx_queued',
  ]);
  const owned = sample(s, 'xdpnet_frames_owned', { worker });
  assert.ok(owned > 0);
  assert.equal(
    places.reduce((n, p) => n + p.value, 0),
    owned,
    `worker ${worker}: ${JSON.stringify(places)}`,
  );
  assert.equal(sample(s, 'xdpnet_frame_violations_total', { worker }), 0);
}

describe('engine: the metrics endpoint', function () {
  this.timeout(120_000);
  let bed: TestBed | undefined;
  let engine: Engine | undefined;

  before(async function () {
    bed = await TestBed.up({ queues: 2 });
  });

  afterEach(async function () {
    await engine?.stop();
    engine = undefined;
  });

  after(async function () {
    await bed?.down();
  });

  function start(metrics: MetricsOption) {
    return Engine.start({
      ifname: bed!.engineIf,
      ipv4: [`${bed!.engineIpv4}/${bed!.ipv4Prefix}`],
      app,
      workers: 2,
      control: false,
      metrics,
    });
  }

  it('serves every counter per worker; scrapes follow the traffic the kernel peer sends', async function () {
    engine = await start({ host: '127.0.0.1', port: 0 });
    const url = engine.metricsUrl!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const first = await scrape(url);
    checkWorkers(first, 2);
    const out = await runPeerPython(bed!, PY_ECHO_TRAFFIC, [
      bed!.engineIpv4,
      String(DATAGRAMS),
      '1',
      String(CONNECTIONS),
    ]);
    assert.equal(out, `${DATAGRAMS} ${CONNECTIONS}`, 'every datagram and connection echoed');
    const second = await scrape(url);
    checkWorkers(second, 2);
    const inc = (name: string) => increase(first, second, name);
    assert.ok(inc('xdpnet_udp_in_datagrams_total') >= DATAGRAMS, 'Udp InDatagrams');
    assert.ok(inc('xdpnet_udp_out_datagrams_total') >= DATAGRAMS, 'Udp OutDatagrams');
    assert.ok(inc('xdpnet_tcp_passive_opens_total') >= CONNECTIONS, 'Tcp PassiveOpens');
    // SYN, data, ACK and FIN at least, per connection.
    assert.ok(inc('xdpnet_tcp_in_segs_total') >= 3 * CONNECTIONS, 'Tcp InSegs');
    assert.ok(inc('xdpnet_tcp_out_segs_total') >= 2 * CONNECTIONS, 'Tcp OutSegs');
    const delivered = inc('xdpnet_ip_in_delivers_total');
    assert.ok(delivered >= DATAGRAMS + 3 * CONNECTIONS, `Ip InDelivers ${delivered}`);
    assert.ok(inc('xdpnet_iface_rx_frames_total') >= delivered, 'frames received');
    assert.ok(inc('xdpnet_xsk_rx_packets_total') >= delivered, 'AF_XDP RX packets');
    assert.ok(inc('xdpnet_loop_passes_total') > 0);
    assert.ok(sample(second, 'xdpnet_xdp_redirected_total') >= delivered);
    assert.equal(sample(second, 'xdpnet_workers', { mode: 'steered' }), 2);
    // Nothing of this was dropped.
    assert.equal(inc('xdpnet_drops_total'), 0, 'no drops');
    assert.equal(inc('xdpnet_xsk_rx_dropped_total'), 0, 'no AF_XDP RX drops');
    await engine.stop();
    engine = undefined;
    await assert.rejects(
      fetch(url, { signal: AbortSignal.timeout(5000) }),
      'the endpoint closes with the engine',
    );
  });

  it('answers scrapes while the peer sends: each parses whole, and the counts climb through the run', async function () {
    engine = await start({ host: '127.0.0.1', port: 0 });
    const url = engine.metricsUrl!;
    const first = await scrape(url);
    let running = true;
    const traffic = runPeerPython(
      bed!,
      PY_ECHO_TRAFFIC,
      [bed!.engineIpv4, String(LONG_DATAGRAMS), String(LONG_FLOWS), '0'],
      60_000,
    ).finally(() => (running = false));
    // Scrapes whose answer came back before the peer finished: taken while its traffic ran.
    const during: Scrape[] = [];
    while (running) {
      const s = await scrape(url);
      if (running) during.push(s);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await traffic, `${LONG_DATAGRAMS * LONG_FLOWS} 0`, 'every datagram echoed');
    const last = await scrape(url);
    const udpIn = (s: Scrape): number =>
      samples(s, 'xdpnet_udp_in_datagrams_total').reduce((n, x) => n + x.value, 0);
    const counts = during.map(udpIn);
    const brief = `UDP InDatagrams: ${udpIn(first)} before, ${counts.join(' ')} during, ${udpIn(last)} after`;
    assert.ok(
      counts.some((n) => n > udpIn(first) && n < udpIn(last)),
      `a scrape saw the traffic half way (${brief})`,
    );
    for (let i = 1; i < counts.length; i++) assert.ok(counts[i] >= counts[i - 1], brief);
    for (const s of during) checkWorkers(s, 2);
  });

  it("with more workers than queues (software RSS), serves the dispatcher's counters and socket too", async function () {
    // The dispatcher serves interfaces with one queue only.
    const oneQueue = await TestBed.up({ queues: 1 });
    try {
      engine = await Engine.start({
        ifname: oneQueue.engineIf,
        ipv4: [`${oneQueue.engineIpv4}/${oneQueue.ipv4Prefix}`],
        app,
        workers: 2,
        control: false,
        metrics: '127.0.0.1:0',
      });
      const before = await scrape(engine.metricsUrl!);
      await runPeerPython(oneQueue, PY_ECHO_TRAFFIC, [oneQueue.engineIpv4, '50', '1', '2']);
      const after = await scrape(engine.metricsUrl!);
      assert.equal(sample(after, 'xdpnet_workers', { mode: 'dispatch' }), 2);
      for (const worker of ['0', '1']) {
        assert.ok(Number.isFinite(sample(after, 'xdpnet_udp_in_datagrams_total', { worker })));
        assert.ok(Number.isFinite(sample(after, 'xdpnet_dispatch_dropped_total', { worker })));
      }
      assert.ok(increase(before, after, 'xdpnet_udp_in_datagrams_total') >= 50);
      assert.ok(increase(before, after, 'xdpnet_dispatch_delivered_total') >= 50);
      const dispatcher = { worker: 'dispatcher', queue: '0' };
      assert.ok(Number.isFinite(sample(after, 'xdpnet_xsk_rx_dropped_total', dispatcher)));
      assert.ok(sample(after, 'xdpnet_dispatcher_rx_packets_total') >= 50);
      // Dispatched workers share the dispatcher's frames: no per-worker account (yet).
      assert.equal(samples(after, 'xdpnet_frames').length, 0);
    } finally {
      await engine?.stop();
      engine = undefined;
      await oneQueue.down();
    }
  });

  it('labels each queue of a worker that reads several with that worker', async function () {
    engine = await Engine.start({
      ifname: bed!.engineIf,
      ipv4: [`${bed!.engineIpv4}/${bed!.ipv4Prefix}`],
      app,
      workers: 1,
      control: false,
      metrics: '127.0.0.1:0',
    });
    const s = await scrape(engine.metricsUrl!);
    for (const queue of ['0', '1']) {
      const socket = { worker: '0', queue };
      assert.ok(Number.isFinite(sample(s, 'xdpnet_xsk_rx_dropped_total', socket)), queue);
      assert.ok(sample(s, 'xdpnet_xsk_ring_entries', { ...socket, ring: 'fill' }) > 0, queue);
    }
    checkFrameAccount(s, '0');
  });

  it('checks the address before starting anything (EINVAL)', async function () {
    await assert.rejects(start('127.0.0.1:99999'), (err: NodeJS.ErrnoException) => {
      return err.code === 'EINVAL' && /0-65535/.test(err.message);
    });
    await assert.rejects(start('9464'), { code: 'EINVAL' });
    assert.equal(nodeXdp().attachedXdpProgram(bed!.engineIf), null);
  });

  it('fails with EADDRINUSE on a taken port and leaves nothing attached', async function () {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      await assert.rejects(start(`127.0.0.1:${port}`), (err: NodeJS.ErrnoException) => {
        return err.code === 'EADDRINUSE' && err.message.includes(`127.0.0.1:${port}`);
      });
      assert.equal(nodeXdp().attachedXdpProgram(bed!.engineIf), null);
    } finally {
      taken.close();
    }
  });
});

describe('xdpnet run --metrics', function () {
  this.timeout(120_000);
  let child: ChildProcess | undefined;

  afterEach(function () {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('serves the metrics of the engine it runs until it stops', async function () {
    child = spawn(
      process.execPath,
      [cli, 'run', app, '--workers', '1', '--metrics', '127.0.0.1:0', '--seconds', '60'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    const stderr = createInterface({ input: child.stderr! });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no metrics URL within 60 s')), 60_000);
      stderr.on('line', (line) => {
        const m = /metrics at (http:\/\/\S+?);/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      void exited.then((code) => reject(new Error(`xdpnet run exited ${code}`)));
    });
    const bedLine = await new Promise<string>((resolve) =>
      createInterface({ input: child!.stdout! }).once('line', resolve),
    );
    const bed = JSON.parse(bedLine) as { netns: string; engineIpv4: string };
    const first = await scrape(url);
    checkWorkers(first, 1);
    const ping = spawn('ip', [
      'netns',
      'exec',
      bed.netns,
      'ping',
      '-c',
      '5',
      '-i',
      '0.2',
      '-W',
      '2',
      bed.engineIpv4,
    ]);
    assert.equal(await new Promise((resolve) => ping.once('exit', resolve)), 0, 'ping');
    const second = await scrape(url);
    assert.ok(increase(first, second, 'xdpnet_icmp_out_echo_reps_total') >= 5, 'Icmp OutEchoReps');
    child.kill('SIGINT');
    assert.equal(await exited, 130);
  });
});
