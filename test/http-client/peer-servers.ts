// The kernel servers the HTTP client tests talk to, in the test bed's peer namespace, each
// listening on both families at once (an IPv6 socket with IPV6_V6ONLY off): Python's
// http.server (HTTP/1.1, keep-alive) and a Python HTTPS server serving a directory with a file
// of random bytes, a Python server that hashes uploads, names the client's port and can stay
// silent, Node's HTTP/2 server over TLS, and openssl s_server -rev (TLS 1.3 only, echoes each
// line reversed). The certificate is made by the test for the peer's two addresses.
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestBed } from '../../ts/testbed/testbed.js';
import { selfSignedCertificate, type CertificateFiles } from '../../ts/testbed/certificate.js';
import { waitUntil } from '../support/wait-until.js';

export const HTTP_PORT = 8080;
export const HTTPS_PORT = 8443;
export const TLS_ECHO_PORT = 4433;
export const PROBE_PORT = 8081;
export const H2_PORT = 8444;
/** Nothing listens here: connects are refused. */
export const CLOSED_PORT = 8099;

// A dual-stack threaded HTTPS file server: argv port, cert, key, directory.
const PY_HTTPS_SERVER = `
import functools, http.server, socket, ssl, sys
port, cert, key, root = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server = Server(('::', port), functools.partial(Handler, directory=root))
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
`;

// A dual-stack threaded HTTP/1.1 server on argv port:
//   POST (any path)  reads the body (Content-Length or chunked) and answers "<sha256> <bytes>"
//   GET /port        answers the client's TCP port (which connection carried the request)
//   GET /silent      never answers
const PY_PROBE_SERVER = `
import hashlib, http.server, socket, sys, time
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *args): pass
    def answer(self, text):
        body = text.encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path == '/silent':
            time.sleep(60)
        elif self.path == '/port':
            self.answer(str(self.client_address[1]))
        else:
            self.send_error(404)
    def body_chunks(self):
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            while True:
                size = int(self.rfile.readline().split(b';')[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b'\\r\\n', b''): pass
                    return
                yield self.rfile.read(size)
                self.rfile.readline()
        left = int(self.headers.get('Content-Length', '0'))
        while left > 0:
            data = self.rfile.read(min(left, 65536))
            if not data: return
            left -= len(data)
            yield data
    def do_POST(self):
        sha, n = hashlib.sha256(), 0
        for data in self.body_chunks():
            sha.update(data)
            n += len(data)
        self.answer('%s %d' % (sha.hexdigest(), n))
class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
Server(('::', int(sys.argv[1])), Handler).serve_forever()
`;

// Node's HTTP/2 server over TLS (HTTP/1.1 allowed too), dual-stack: argv port, cert, key, file.
// Answers every request with the file and the HTTP version it spoke (x-http-version).
const NODE_H2_SERVER = `
const fs = require('node:fs');
const http2 = require('node:http2');
const [port, cert, key, file] = process.argv.slice(1);
const tls = { cert: fs.readFileSync(cert), key: fs.readFileSync(key), allowHTTP1: true };
http2.createSecureServer(tls, (req, res) => {
  res.setHeader('x-http-version', req.httpVersion);
  res.end(fs.readFileSync(file));
}).listen(Number(port), '::');
`;

export interface PeerServers {
  /** The served file's name, size and SHA-256. */
  file: { name: string; bytes: number; sha256: string };
  /** The PEM certificate the servers present (self-signed: the clients' CA). */
  caFile: string;
  children: ChildProcess[];
}

/** A self-signed certificate (EC P-256) for the peer's IPv4 and IPv6 addresses. */
function makeCertificate(bed: TestBed, dir: string): CertificateFiles {
  return selfSignedCertificate(dir, 'xdpnet-test-peer', [
    `IP:${bed.peerIpv4}`,
    `IP:${bed.peerIpv6}`,
  ]);
}

/** A server in the peer namespace; its output is drained so a full pipe never stalls it. */
function spawnPeer(bed: TestBed, argv: string[], children: ChildProcess[]): void {
  const child = bed.spawn(argv);
  child.stdout?.resume();
  child.stderr?.resume();
  children.push(child);
}

async function listeningPorts(bed: TestBed): Promise<string> {
  return (await bed.exec(['ss', '-Hltn'])).stdout;
}

/**
 * Starts the five servers over a directory holding `bytes` random bytes; resolves once all
 * listen. The caller kills `children` (also when this fails: they are pushed as they start).
 */
export async function startPeerServers(
  bed: TestBed,
  dir: string,
  bytes: number,
  children: ChildProcess[],
): Promise<PeerServers> {
  const root = path.join(dir, 'www');
  mkdirSync(root);
  const body = randomBytes(bytes);
  writeFileSync(path.join(root, 'blob.bin'), body);
  const { cert, key } = makeCertificate(bed, dir);
  spawnPeer(
    bed,
    [
      'python3',
      '-m',
      'http.server',
      '--protocol',
      'HTTP/1.1',
      '--bind',
      '::',
      '--directory',
      root,
      String(HTTP_PORT),
    ],
    children,
  );
  spawnPeer(bed, ['python3', '-c', PY_HTTPS_SERVER, String(HTTPS_PORT), cert, key, root], children);
  spawnPeer(
    bed,
    [
      'openssl',
      's_server',
      '-quiet',
      '-rev',
      '-tls1_3',
      '-cert',
      cert,
      '-key',
      key,
      '-accept',
      String(TLS_ECHO_PORT),
    ],
    children,
  );
  spawnPeer(bed, ['python3', '-c', PY_PROBE_SERVER, String(PROBE_PORT)], children);
  const h2Args = [String(H2_PORT), cert, key, path.join(root, 'blob.bin')];
  spawnPeer(bed, [process.execPath, '-e', NODE_H2_SERVER, ...h2Args], children);
  const ports = [HTTP_PORT, HTTPS_PORT, TLS_ECHO_PORT, PROBE_PORT, H2_PORT];
  await waitUntil(
    'the peer servers to listen',
    async () => {
      const out = await listeningPorts(bed);
      return ports.every((p) => out.includes(`:${p} `));
    },
    () => listeningPorts(bed),
    10000,
  );
  const sha256 = createHash('sha256').update(body).digest('hex');
  return { file: { name: 'blob.bin', bytes, sha256 }, caFile: cert, children };
}
