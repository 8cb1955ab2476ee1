// Node's own http server on the engine: the handler is what it would be on the kernel; only the
// `http` import comes from xdpnet. Every worker listens on the port (SO_REUSEPORT semantics).
//   npx xdpnet run dist/examples/http-server.js     then:   curl http://<ip>:8080/
import { http } from '../ts/index.js';

const port = Number(process.env.HTTP_PORT ?? 8080);
const body = Buffer.from(process.env.HTTP_BODY ?? 'Hello from xdpnet\n');

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
});
server.on('error', (err) => process.stderr.write(`http-server: ${err.message}\n`));
server.listen(port);
