// The metrics endpoint without an engine: address parsing, metric names, a registry over a
// hand-made snapshot read back with a Prometheus text parser, and the HTTP server's answers.
import assert from 'node:assert/strict';
import http from 'node:http';
import { parseMetricsAddress } from '../../ts/runtime/metrics/address.js';
import { engineFamilies, snakeCase } from '../../ts/runtime/metrics/families.js';
import type { EngineSnapshot } from '../../ts/runtime/metrics/families.js';
import { engineRegistry } from '../../ts/runtime/metrics/registry.js';
import { MetricsServer } from '../../ts/runtime/metrics/server.js';
import { netstatCounters } from '../../ts/runtime/control-counters.js';
import type { StackWorkerStats } from '../../ts/runtime/stack-config.js';
import type { XskStats } from '../../ts/dev/xdp/native.js';
import { parseScrape, sample, samples, scrape } from '../support/prometheus.js';

function workerStats(workerId: number, inDatagrams: number): StackWorkerStats {
  return {
    workerId,
    iface: { rxFrames: 10 * inDatagrams, txFrames: 5, echoRepliesSent: 2, pathRefills: 1 },
    drops: { udp_bad_checksum: 3 },
    udp: { inDatagrams, noPorts: 0, outDatagrams: inDatagrams },
    tcp: { activeOpens: 1, currEstab: 4, inSegs: 9 },
    tcpExt: { challengeAcks: 1, synChallenges: 2 },
    loop: { passes: 100, parks: 7, naps: 3, cpuSeconds: 0.25 },
    frames: {
      frames: 100,
      free: 40,
      fill: 50,
      rx: 1,
      app: 2,
      txQueued: 3,
      tx: 2,
      completion: 2,
      violations: 0,
    },
    rings: [{ queue: workerId, fill: 50, rx: 1, tx: 2, comp: 2 }],
  };
}

const xsk: XskStats = {
  rxDropped: 1,
  rxInvalidDescs: 0,
  txInvalidDescs: 0,
  rxRingFull: 2,
  rxFillRingEmptyDescs: 3,
  txRingEmptyDescs: 4,
  rxPackets: 5,
  rxBytes: 6,
  txPackets: 7,
  txBytes: 8,
  kicks: 9,
  fillEmptyEvents: 0,
  invalidDescs: 0,
};

function snapshot(inDatagrams: number): EngineSnapshot {
  const workers = [workerStats(0, inDatagrams), workerStats(1, 2 * inDatagrams)];
  return {
    mode: 'steered',
    workers,
    netstat: workers.map(netstatCounters),
    sockets: workers.map((_, i) => ({
      worker: String(i),
      queue: i,
      stats: xsk,
      ringSizes: { fill: 4096, rx: 4096, tx: 4096, comp: 4096 },
      occupancy: { fill: 50, rx: 1, tx: 2, comp: 2 },
    })),
    program: { redirected: 11, passed: 12 },
  };
}

describe('metrics: addresses', function () {
  it('takes HOST:PORT, [IPv6]:PORT and { host, port }', function () {
    assert.deepEqual(parseMetricsAddress('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(parseMetricsAddress('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseMetricsAddress('localhost:80'), { host: 'localhost', port: 80 });
    assert.deepEqual(parseMetricsAddress({ port: 9 }), { host: '127.0.0.1', port: 9 });
    assert.deepEqual(parseMetricsAddress({ host: '::1', port: 9 }), { host: '::1', port: 9 });
  });

  it('refuses what is not an address with EINVAL and says why', function () {
    const cases: [unknown, RegExp][] = [
      ['9464', /not HOST:PORT/],
      [':9464', /not HOST:PORT/],
      ['127.0.0.1', /not HOST:PORT/],
      ['127.0.0.1:', /port "" .* not an integer in 0-65535/],
      ['127.0.0.1:65536', /not an integer in 0-65535/],
      ['127.0.0.1:94x', /not an integer/],
      ['::1:9464', /IPv6 address in brackets/],
      ['[localhost]:9464', /only an IPv6 address goes in brackets/],
      ['bad host!:1', /not an IP address or host name/],
      [{ host: '127.0.0.1', port: -1 }, /not an integer/],
      [{ host: '127.0.0.1' }, /not an integer/],
      [42, /HOST:PORT/],
    ];
    for (const [spec, message] of cases) {
      assert.throws(
        () => parseMetricsAddress(spec as string),
        (err: NodeJS.ErrnoException) => err.code === 'EINVAL' && message.test(err.message),
        JSON.stringify(spec),
      );
    }
  });
});

describe('metrics: families', function () {
  it('names counters in snake_case after netstat, ending in _total', function () {
    assert.equal(snakeCase('TCPSYNChallenge'), 'tcp_syn_challenge');
    assert.equal(snakeCase('TCPACKSkippedChallenge'), 'tcp_ack_skipped_challenge');
    assert.equal(snakeCase('ReasmOKs'), 'reasm_oks');
    assert.equal(snakeCase('InCsumErrors'), 'in_csum_errors');
    assert.equal(snakeCase('txQueued'), 'tx_queued');
    const families = engineFamilies(snapshot(1));
    const names = families.map((f) => f.name);
    assert.equal(new Set(names).size, names.length, 'no name twice');
    for (const f of families) {
      assert.match(f.name, /^xdpnet_[a-z0-9]+(_[a-z0-9]+)*$/, f.name);
      assert.equal(f.name.endsWith('_total'), f.type === 'counter', f.name);
    }
    for (const n of [
      'xdpnet_udp_in_datagrams_total',
      'xdpnet_udp_in_csum_errors_total',
      'xdpnet_tcp_curr_estab',
      'xdpnet_tcpext_tcp_challenge_ack_total',
      'xdpnet_ip_in_delivers_total',
      'xdpnet_icmp_out_echo_reps_total',
      'xdpnet_iface_rx_frames_total',
      'xdpnet_iface_path_refills_total',
      'xdpnet_xsk_rx_dropped_total',
      'xdpnet_xsk_rx_fill_ring_empty_descs_total',
    ]) {
      assert.ok(names.includes(n), n);
    }
    // An interface counter that netstat shows in a section is not exported twice.
    assert.ok(!names.includes('xdpnet_iface_echo_replies_sent_total'));
  });

  it('a registry renders every family per worker at scrape time, as a Prometheus parser reads it', async function () {
    let inDatagrams = 10;
    let asked = 0;
    const source = async () => {
      asked++;
      return snapshot(inDatagrams);
    };
    const registry = engineRegistry(source, snapshot(0));
    const first = parseScrape(await registry.metrics());
    assert.equal(asked, 1, 'one snapshot per scrape');
    assert.equal(sample(first, 'xdpnet_udp_in_datagrams_total', { worker: '0' }), 10);
    assert.equal(sample(first, 'xdpnet_udp_in_datagrams_total', { worker: '1' }), 20);
    assert.equal(first.get('xdpnet_udp_in_datagrams_total')!.type, 'COUNTER');
    assert.equal(first.get('xdpnet_tcp_curr_estab')!.type, 'GAUGE');
    assert.equal(sample(first, 'xdpnet_tcp_curr_estab', { worker: '1' }), 4);
    assert.equal(sample(first, 'xdpnet_udp_in_csum_errors_total', { worker: '0' }), 3);
    const drops = { worker: '0', reason: 'udp_bad_checksum' };
    assert.equal(sample(first, 'xdpnet_drops_total', drops), 3);
    assert.equal(sample(first, 'xdpnet_drops_total', { worker: '0', reason: 'tcp_bad_port' }), 0);
    const places = samples(first, 'xdpnet_frames', { worker: '1' });
    assert.equal(places.length, 7);
    assert.equal(
      places.reduce((n, p) => n + p.value, 0),
      sample(first, 'xdpnet_frames_owned', { worker: '1' }),
    );
    assert.equal(sample(first, 'xdpnet_frames', { worker: '0', place: 'tx_queued' }), 3);
    const ring = { worker: '1', queue: '1', ring: 'fill' };
    assert.equal(sample(first, 'xdpnet_xsk_ring_entries', ring), 50);
    assert.equal(sample(first, 'xdpnet_xsk_ring_size', ring), 4096);
    assert.equal(sample(first, 'xdpnet_xsk_rx_ring_full_total', { worker: '0' }), 2);
    assert.equal(sample(first, 'xdpnet_xdp_redirected_total'), 11);
    assert.equal(sample(first, 'xdpnet_worker_cpu_seconds_total', { worker: '0' }), 0.25);
    assert.equal(sample(first, 'xdpnet_workers', { mode: 'steered' }), 2);
    inDatagrams = 25;
    const second = parseScrape(await registry.metrics());
    assert.equal(asked, 2);
    assert.equal(sample(second, 'xdpnet_udp_in_datagrams_total', { worker: '0' }), 25);
  });
});

function get(url: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, timeout: 5000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics: the server', function () {
  it('serves /metrics on the address given, 404 elsewhere, and closes', async function () {
    const registry = engineRegistry(async () => snapshot(3), snapshot(0));
    const server = await MetricsServer.start(registry, { host: '127.0.0.1', port: 0 });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const s = await scrape(server.url);
      assert.equal(sample(s, 'xdpnet_udp_in_datagrams_total', { worker: '0' }), 3);
      assert.equal((await get(server.url.replace('/metrics', '/'))).status, 404);
      assert.equal((await get(server.url, 'POST')).status, 405);
    } finally {
      await server.close();
    }
    await assert.rejects(get(server.url), { code: 'ECONNREFUSED' });
  });

  it('says EADDRINUSE when the port is taken, and answers 500 when the engine fails', async function () {
    let fail = false;
    const source = async () => {
      if (fail) throw new Error('workers gone');
      return snapshot(1);
    };
    const registry = engineRegistry(source, snapshot(0));
    const server = await MetricsServer.start(registry, { host: '127.0.0.1', port: 0 });
    try {
      const port = Number(new URL(server.url).port);
      await assert.rejects(MetricsServer.start(registry, { host: '127.0.0.1', port }), (err) => {
        const e = err as NodeJS.ErrnoException;
        return e.code === 'EADDRINUSE' && e.message.includes(`127.0.0.1:${port}`);
      });
      fail = true;
      const r = await get(server.url);
      assert.equal(r.status, 500);
      assert.match(r.body, /workers gone/);
    } finally {
      await server.close();
    }
  });
});
