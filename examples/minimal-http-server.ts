// A minimal HTTP/1.1 server on xdpnet's `net`: answers GET (and HEAD) with a fixed body and
// Content-Length, keeps connections alive unless the client says `Connection: close` (or speaks
// HTTP/1.0 without keep-alive), and pipelines (requests are answered in order). Enough for
// curl and wrk; not a general HTTP parser (no request bodies, no chunked encoding).
//   npx xdpnet run dist/examples/minimal-http-server.js     then:   curl http://<ip>:8080/
import { net } from '../ts/index.js';

const port = Number(process.env.HTTP_PORT ?? 8080);
const body = Buffer.from(process.env.HTTP_BODY ?? 'Hello from xdpnet\n');
const MAX_HEADER = 16 * 1024;

function response(status: string, keepAlive: boolean, withBody: boolean, payload: Buffer): Buffer {
  const head =
    `HTTP/1.1 ${status}\r\n` +
    `Content-Type: text/plain\r\n` +
    `Content-Length: ${payload.length}\r\n` +
    `Connection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
  return withBody ? Buffer.concat([Buffer.from(head), payload]) : Buffer.from(head);
}

function serve(socket: net.Socket): void {
  let pending = '';
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    let end: number;
    while ((end = pending.indexOf('\r\n\r\n')) >= 0) {
      const head = pending.slice(0, end);
      pending = pending.slice(end + 4);
      const [requestLine, ...lines] = head.split('\r\n');
      const [method, , version] = requestLine.split(' ');
      const connection = lines
        .find((l) => l.toLowerCase().startsWith('connection:'))
        ?.slice(11)
        .trim()
        .toLowerCase();
      const keepAlive =
        version === 'HTTP/1.1' ? connection !== 'close' : connection === 'keep-alive';
      if (method === 'GET' || method === 'HEAD') {
        socket.write(response('200 OK', keepAlive, method === 'GET', body));
      } else {
        socket.write(response('405 Method Not Allowed', false, true, Buffer.from('GET only\n')));
        socket.end();
        return;
      }
      if (!keepAlive) {
        socket.end();
        return;
      }
    }
    if (pending.length > MAX_HEADER) {
      socket.end(response('431 Request Header Fields Too Large', false, true, Buffer.alloc(0)));
    }
  });
}

const server = net.createServer(serve);
server.on('error', (err) => process.stderr.write(`minimal-http-server: ${err.message}\n`));
server.listen(port);
