// Test app for test/http-client: Node's HTTP clients, TLS and fetch inside an engine worker,
// against kernel servers in the peer namespace. One scenario per run, chosen by
// XDPNET_HC_SCENARIO, run on each URL of XDPNET_HC_URLS (comma-separated) in turn; the outcomes
// go as one JSON array to XDPNET_HC_RESULT. XDPNET_HC_CA is the PEM file of the servers'
// certificate (https and TLS scenarios).
//   http-get        http.get (xdpnet's default engine agent): status, body length and SHA-256
//   keep-alive      5 GETs through one keep-alive http.Agent (maxSockets 1): which reused a
//                   socket, and the client port the server saw for each
//   uploads         2 MB POSTs, chunked (corked writes) and with Content-Length: the server's
//                   SHA-256 of what it got
//   timeouts        a request's timeout on a silent server, an Agent closing an idle pooled
//                   socket, a connection without keep-alive closed after its response
//   https-get       https.get twice with the CA: status, body SHA-256, connection reuse
//   fetch           undici's fetch and Node's global fetch, both with an engine dispatcher
//   undici-request  undici.request through the engine's default dispatcher
//   undici-h2       undici.request with allowH2 and without: the HTTP version the server spoke
//   tls-echo        tls.connect, a line to openssl s_server -rev, its reversed echo
//   errors          the error codes of each client for a closed port and for a host name
import { createHash, randomBytes } from 'node:crypto';
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

/** The whole body as text, with the status. */
function readText(res: IncomingMessage): Promise<{ status?: number; text: string }> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (text += d));
    res.on('end', () => resolve({ status: res.statusCode, text }));
    res.on('error', reject);
  });
}

/** A request with `body` written in `parts` writes (chunked) or in one (Content-Length). */
function upload(url: string, body: Buffer, parts: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const headers = parts === 1 ? { 'content-length': body.length } : {};
    const req = http.request(`${url}upload`, { method: 'POST', headers }, (res) =>
      readText(res).then((r) => resolve({ status: r.status, peer: r.text }), reject),
    );
    req.on('error', reject);
    const size = Math.ceil(body.length / parts);
    // Pairs of chunks corked together: Node's http writes chunk framing and data as one _writev.
    for (let off = 0; off < body.length; off += 2 * size) {
      req.cork();
      req.write(body.subarray(off, off + size));
      req.write(body.subarray(off + size, off + 2 * size));
      process.nextTick(() => req.uncork());
    }
    // end() only once every uncork ran: Node 22's http (and Node 20's, at times) frames a chunked
    // body wrongly when end() comes while the request is corked, on kernel sockets too (the
    // server reads one chunk, then a last-chunk, then the rest as a new request). Node 26 is fixed.
    process.nextTick(() => req.end());
  });
}

async function uploads(url: string): Promise<Outcome> {
  const body = randomBytes(2 * 1024 * 1024 + 123);
  return {
    sha256: createHash('sha256').update(body).digest('hex'),
    bytes: body.length,
    chunked: await upload(url, body, 32),
    sized: await upload(url, body, 1),
  };
}

/** Five GETs of /port (the client port the server saw) through one keep-alive Agent. */
async function keepAlive(url: string): Promise<Outcome> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const reused: boolean[] = [];
  const localPorts: (number | undefined)[] = [];
  const peerSawPorts: number[] = [];
  const sockets = new Set<unknown>();
  for (let i = 0; i < 5; i++) {
    const { text } = await new Promise<{ text: string }>((resolve, reject) => {
      const req = http.get(`${url}port`, { agent }, (res) => {
        reused.push(req.reusedSocket);
        sockets.add(req.socket);
        localPorts.push(req.socket?.localPort);
        readText(res).then(resolve, reject);
      });
      req.on('error', reject);
    });
    peerSawPorts.push(Number(text));
  }
  agent.destroy();
  return { reused, localPorts, peerSawPorts, distinctSockets: sockets.size };
}

/** A request's own timeout against a server that never answers: 'timeout', then our abort. */
function requestTimeout(url: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const events: string[] = [];
    const req = http.get(`${url}silent`, { timeout: 300 });
    // Without a 'timeout' the request would wait for the server's minute of silence.
    const giveUp = setTimeout(() => {
      events.push('no timeout after 3 s');
      req.destroy();
    }, 3000);
    req.on('timeout', () => {
      events.push('timeout');
      req.destroy();
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(giveUp);
      events.push(`error ${e.code}`);
      resolve({ events, ms: Date.now() - started });
    });
  });
}

/** An idle pooled socket is closed by the Agent once its `timeout` passes ('timeout' event). */
async function agentIdleTimeout(url: string): Promise<Outcome> {
  const agent = new http.Agent({ keepAlive: true, timeout: 300 });
  let closed: boolean | null = null;
  await new Promise<void>((resolve, reject) => {
    const req = http.get(`${url}port`, { agent }, (res) => {
      req.socket?.once('close', (hadError: boolean) => (closed = hadError));
      readText(res).then(() => resolve(), reject);
    });
    req.on('error', reject);
  });
  await new Promise((r) => setImmediate(r)); // the socket goes back to the pool
  const pooledAfterResponse = Object.values(agent.freeSockets).flat().length;
  await new Promise((r) => setTimeout(r, 1000));
  const pooledAfterIdle = Object.values(agent.freeSockets).flat().length;
  agent.destroy();
  return { pooledAfterResponse, pooledAfterIdle, closedWithError: closed };
}

/** Without keep-alive the client closes its connection after the response (destroySoon). */
async function connectionClose(url: string): Promise<Outcome> {
  const agent = new http.Agent({ keepAlive: false });
  const closed = await new Promise<boolean>((resolve, reject) => {
    const req = http.get(`${url}port`, { agent }, (res) => {
      const socket = req.socket!;
      socket.once('close', (hadError: boolean) => resolve(hadError));
      readText(res).catch(reject);
    });
    req.on('error', reject);
  });
  return { closedWithError: closed };
}

async function timeouts(url: string): Promise<Outcome> {
  return {
    request: await requestTimeout(url),
    agent: await agentIdleTimeout(url),
    close: await connectionClose(url),
  };
}

function httpsGetOnce(url: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca }, (res) =>
      readBody(res).then((body) => resolve({ ...body, reused: req.reusedSocket }), reject),
    );
    req.on('error', reject);
  });
}

/** Two GETs through xdpnet's https.globalAgent (keep-alive): the second reuses the connection. */
async function httpsGet(url: string): Promise<Outcome> {
  return { first: await httpsGetOnce(url), second: await httpsGetOnce(url) };
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

/** undici.request with and without allowH2: the HTTP version the server spoke, and the body. */
async function h2Request(url: string): Promise<Outcome> {
  const out: Outcome = {};
  for (const allowH2 of [true, false]) {
    const dispatcher = new undici.Agent({ allowH2, connect: { ca } });
    try {
      const { statusCode, headers, body } = await undici.request(url, { dispatcher });
      const data = Buffer.from(await body.arrayBuffer());
      out[allowH2 ? 'h2' : 'h1'] = {
        status: statusCode,
        version: headers['x-http-version'],
        bytes: data.length,
        sha256: createHash('sha256').update(data).digest('hex'),
      };
    } finally {
      await dispatcher.close();
    }
  }
  return out;
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
  uploads,
  timeouts,
  'https-get': httpsGet,
  fetch: fetchBoth,
  'undici-request': undiciRequest,
  'undici-h2': h2Request,
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
