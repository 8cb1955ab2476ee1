// A Fastify app on the engine. On the kernel it would be the same file without the
// serverFactory: Fastify then builds its own server with Node's http.createServer.
//   npx xdpnet run dist/examples/fastify-app.js     then:   curl http://<ip>:8080/users/7
import Fastify from 'fastify';
import { http } from '../ts/index.js';

const port = Number(process.env.HTTP_PORT ?? 8080);

const app = Fastify({ serverFactory: (handler) => http.createServer(handler) });
app.get('/', async () => 'Hello from Fastify on xdpnet\n');
app.get<{ Params: { id: string } }>('/users/:id', async (req) => ({
  id: Number(req.params.id),
  name: `user ${req.params.id}`,
}));
app.post('/echo', async (req) => req.body);

// Fastify's default host is localhost; the engine has no DNS and no loopback: listen on all.
app.listen({ port, host: '::' }).catch((err: Error) => {
  process.stderr.write(`fastify-app: ${err.message}\n`);
});
