// Test app for test/http/tls-h2.test.ts: HTTP/2 on the engine, in cleartext (h2c, prior
// knowledge) on XDPNET_H2C_PORT and over TLS (ALPN h2) on XDPNET_H2_TLS_PORT with the key and
// certificate in XDPNET_TLS_KEY and XDPNET_TLS_CERT. Both answer "<version> <method> <path>".
import { readFileSync } from 'node:fs';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { http2 } from '../../../ts/index.js';

function answer(req: Http2ServerRequest, res: Http2ServerResponse): void {
  res.setHeader('content-type', 'text/plain');
  res.end(`HTTP/${req.httpVersion} ${req.method} ${req.url}\n`);
}

const report = (err: Error): void => void process.stderr.write(`h2-servers: ${err.message}\n`);

const cleartext = http2.createServer(answer);
cleartext.on('error', report);
cleartext.listen(Number(process.env.XDPNET_H2C_PORT));

const secure = http2.createSecureServer(
  {
    key: readFileSync(process.env.XDPNET_TLS_KEY ?? ''),
    cert: readFileSync(process.env.XDPNET_TLS_CERT ?? ''),
  },
  answer,
);
secure.on('error', report);
secure.listen(Number(process.env.XDPNET_H2_TLS_PORT));
