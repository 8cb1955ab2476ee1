// Test app for test/http-client: Node's HTTP clients, TLS and fetch inside an engine worker,
// against kernel servers in the peer namespace. One scenario per run, chosen by
// XDPNET_HC_SCENARIO, run on each URL of XDPNET_HC_URLS (comma-separated) in turn; the outcomes
// go as one JSON array to XDPNET_HC_RESULT. XDPNET_HC_CA is the PEM file of the servers'
// certificate (https and TLS scenarios).
//   http-get        http.get (xdpnet's default engine agent): status, body length and SHA-256
//   keep-alive      5 GETs through one keep-alive http.Agent (maxSockets 1): which reused a socket
//   https-get       https.get with the CA: status and body SHA-256
//   fetch           undici's fetch and Node's global fetch, both with an engine dispatcher
//   undici-request  undici.request through the engine's default dispatcher
//   tls-echo        tls.connect, a line to openssl s_server -rev, its reversed echo
//   errors          the error codes of each client for a closed port and for a host name
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import type { Response as UndiciResponse } from 'undici';
import { http, https, tls, undici } from '../../../ts/index.js';

const scenario = process.env.XDPNET_HC_SCENARIO ?? '';
const urls = (process.env.XDPNET_HC_URLS ?? '').split(',').filter((u) => u !== '');
const resultFile = process.env.XDPNET_HC_RESULT ?? '';
const caFile = process.env.XDPNET_HC_CA;
const ca = caFile === undefined ? undefined : readFileSync(caFile);
const TLS_LINE = 'hello from xdpnet over TLS\n';

type Outcome = Record<string, unknown>;

/** The body's length and SHA-256, and the response's status and the socket's remote end. */
function readBody(res: IncomingMessage): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const sha = createHash('sha256');
    let bytes = 0;
    // A keep-alive agent takes the socket back once the body is read: note its family now.
    const remoteFamily = res.socket?.remoteFamily;
    res.on('data', (chunk: Buffer) => {
      sha.update(chunk);
      bytes += chunk.length;
    });
    res.on('end', () =>
      resolve({
        status: res.statusCode,
        bytes,
        sha256: sha.digest('hex'),
        remoteFamily,
      }),
    );
    res.on('error', reject);
  });
}

function httpGet(url: string, options: RequestOptions = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, options, (res) => readBody(res).then(resolve, reject));
    req.on('error', reject);
  });
}

async function keepAlive(url: string): Promise<Outcome> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const reused: boolean[] = [];
  const localPorts: (number | undefined)[] = [];
  const sockets = new Set<unknown>();
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const out = await new Promise<Outcome>((resolve, reject) => {
      const req = http.get(url, { agent }, (res) => {
        reused.push(req.reusedSocket);
        sockets.add(req.socket);
        localPorts.push(req.socket?.localPort);
        readBody(res).then(resolve, reject);
      });
      req.on('error', reject);
    });
    statuses.push(out.status as number);
  }
  agent.destroy();
  return { statuses, reused, localPorts, distinctSockets: sockets.size };
}

function httpsGet(url: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca }, (res) => readBody(res).then(resolve, reject));
    req.on('error', reject);
  });
}

async function fetchBody(res: Response | UndiciResponse): Promise<Outcome> {
  const body = Buffer.from(await res.arrayBuffer());
  const sha256 = createHash('sha256').update(body).digest('hex');
  return { status: res.status, bytes: body.length, sha256 };
}

async function fetchBoth(url: string): Promise<Outcome> {
  const dispatcher = new undici.Agent({ connect: { ca } });
  try {
    const viaUndici = await fetchBody(await undici.fetch(url, { dispatcher }));
    // Node 20's own fetch (its bundled undici) takes the dispatcher option too.
    // Its types are those of its own undici copy: the same Dispatcher interface, a cast apart.
    const init = { dispatcher } as unknown as RequestInit;
    const viaGlobal = await fetchBody(await globalThis.fetch(url, init));
    return { undici: viaUndici, global: viaGlobal };
  } finally {
    await dispatcher.close();
  }
}

async function undiciRequest(url: string): Promise<Outcome> {
  const { statusCode, body } = await undici.request(url);
  const data = Buffer.from(await body.arrayBuffer());
  return {
    status: statusCode,
    bytes: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
  };
}

function tlsEcho(url: string): Promise<Outcome> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), ca }, () => {
      socket.write(TLS_LINE);
    });
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      reply += d;
      if (!reply.includes('\n')) return;
      resolve({
        protocol: socket.getProtocol(),
        authorized: socket.authorized,
        reply,
        expected: [...TLS_LINE.trimEnd()].reverse().join('') + '\n',
      });
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

/** The error (or its cause, as fetch wraps it) a call fails with. */
async function errorOf(call: () => Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await call();
    return { message: 'no error' };
  } catch (e) {
    const err = e as { code?: string; message: string; cause?: { code?: string; message: string } };
    return err.code === undefined && err.cause !== undefined ? err.cause : err;
  }
}

async function codeOf(call: () => Promise<unknown>): Promise<string> {
  const err = await errorOf(call);
  return err.code ?? err.message;
}

async function errors(url: string): Promise<Outcome> {
  const { port } = new URL(url); // a closed port on the peer
  const named = `http://peer.invalid:${port}/`;
  return {
    httpRefused: await codeOf(() => httpGet(url)),
    httpName: await codeOf(() => httpGet(named)),
    nameMessage: (await errorOf(() => httpGet(named))).message,
    fetchRefused: await codeOf(() => undici.fetch(url)),
    fetchName: await codeOf(() => undici.fetch(named)),
    tlsRefused: await codeOf(() => tlsEcho(url)),
    tlsName: await codeOf(
      () =>
        new Promise((resolve, reject) => {
          const s = tls.connect({ host: 'peer.invalid', port: Number(port) }, () => resolve(s));
          s.on('error', reject);
        }),
    ),
  };
}

const SCENARIOS: Record<string, (url: string) => Promise<Outcome>> = {
  'http-get': (url) => httpGet(url),
  'keep-alive': keepAlive,
  'https-get': httpsGet,
  fetch: fetchBoth,
  'undici-request': undiciRequest,
  'tls-echo': tlsEcho,
  errors,
};

async function main(): Promise<void> {
  const run = SCENARIOS[scenario];
  const outcomes: Outcome[] = [];
  for (const url of urls) {
    try {
      outcomes.push({ url, ...(await run(url)) });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      outcomes.push({ url, error: err.code ?? String(err), message: err.message });
    }
  }
  writeFileSync(resultFile, JSON.stringify(outcomes));
}

if (resultFile !== '') void main();
