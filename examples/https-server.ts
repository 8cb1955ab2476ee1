// Node's https server on the engine. On the kernel it would be the same file with
// `import https from 'node:https'`. The key and certificate come from HTTPS_KEY and HTTPS_CERT
// (PEM files); without them each worker makes itself a self-signed one with openssl at start.
//   npx xdpnet run dist/examples/https-server.js     then:   curl --insecure https://<ip>:8443/
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { https } from '../ts/index.js';

const port = Number(process.env.HTTPS_PORT ?? 8443);

function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(path.join(tmpdir(), 'xdpnet-https-'));
  try {
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    const args = [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
      ...['-nodes', '-days', '30', '-subj', '/CN=xdpnet example', '-keyout', key, '-out', cert],
    ];
    execFileSync('openssl', args, { stdio: 'pipe' }); // its progress lines stay out of our output
    return { key: readFileSync(key), cert: readFileSync(cert) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { HTTPS_KEY, HTTPS_CERT } = process.env;
const credentials =
  HTTPS_KEY && HTTPS_CERT
    ? { key: readFileSync(HTTPS_KEY), cert: readFileSync(HTTPS_CERT) }
    : selfSignedCertificate();

const server = https.createServer(credentials, (req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end(`Hello from xdpnet over TLS (HTTP/${req.httpVersion})\n`);
});
server.on('error', (err) => process.stderr.write(`https-server: ${err.message}\n`));
server.listen(port);
