// The examples as a user runs them: Node's http server, Express and Fastify on the engine in two
// workers (each listens on the port), each answering curl on its routes and then wrk for 10 s,
// over IPv4 and IPv6, with no socket error and no answer other than 2xx.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { parseWrkReport } from './wrk-report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const examples = path.join(here, '../../examples');
const PORT = 8080;
const WRK_SECONDS = 10;

interface Route {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /** What the response body must be. */
  answer: string | object;
}

const userRoutes: Route[] = [
  { method: 'GET', path: '/users/7', answer: { id: 7, name: 'user 7' } },
  { method: 'POST', path: '/echo', body: '{"a":[1,2,3]}', answer: { a: [1, 2, 3] } },
];

const apps: { name: string; file: string; routes: Route[] }[] = [
  {
    name: 'http-server',
    file: 'http-server.js',
    routes: [{ method: 'GET', path: '/', answer: 'Hello from xdpnet\n' }],
  },
  {
    name: 'express-app',
    file: 'express-app.js',
    routes: [{ method: 'GET', path: '/', answer: 'Hello from Express on xdpnet\n' }, ...userRoutes],
  },
  {
    name: 'fastify-app',
    file: 'fastify-app.js',
    routes: [{ method: 'GET', path: '/', answer: 'Hello from Fastify on xdpnet\n' }, ...userRoutes],
  },
];

describe('http: the Node http, Express and Fastify examples on the engine', function () {
  this.timeout(120000);
  let bed: TestBed | undefined;
  let engine: Engine | undefined;
  let hosts: string[];

  before(async function () {
    bed = await TestBed.up();
    hosts = [bed.engineIpv4, `[${bed.engineIpv6}]`];
  });

  afterEach(async function () {
    const stopping = engine;
    engine = undefined;
    await stopEngineAndBed({ engine: stopping, bed: undefined });
  });

  after(async function () {
    await stopEngineAndBed({ engine: undefined, bed });
  });

  async function curl(route: Route, host: string): Promise<string> {
    const argv = ['curl', '-sS', '-g', '-m', '10', '-X', route.method];
    if (route.body !== undefined) {
      argv.push('-H', 'Content-Type: application/json', '--data-binary', route.body);
    }
    const r = await (bed as TestBed).exec([...argv, `http://${host}:${PORT}${route.path}`], {
      timeoutMs: 20000,
    });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  }

  for (const app of apps) {
    it(`${app.name}: answers curl, then wrk for ${WRK_SECONDS} s with no errors, IPv4 and IPv6`, async function () {
      const b = bed as TestBed;
      process.env.HTTP_PORT = String(PORT);
      engine = await startEngineOnBed(b, path.join(examples, app.file), { workers: 2 });
      for (const host of hosts) {
        for (const route of app.routes) {
          const body = await curl(route, host);
          if (typeof route.answer === 'string') assert.equal(body, route.answer);
          else assert.deepEqual(JSON.parse(body), route.answer);
        }
        const url = `http://${host}:${PORT}/`;
        const w = await b.exec(['wrk', '-t1', '-c10', `-d${WRK_SECONDS}s`, url], {
          timeoutMs: (WRK_SECONDS + 20) * 1000,
        });
        assert.equal(w.code, 0, w.stderr);
        const report = parseWrkReport(w.stdout);
        assert.deepEqual(report.socketErrors, [0, 0, 0, 0], `${url}\n${w.stdout}`);
        assert.equal(report.non2xx, 0, `${url}\n${w.stdout}`);
        assert.ok(report.requests > 1000, `${url}\n${w.stdout}`);
        assert.ok(report.seconds >= WRK_SECONDS - 0.5, `wrk ran ${report.seconds} s`);
      }
    });
  }
});
