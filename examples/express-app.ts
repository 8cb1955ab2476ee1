// An Express app on the engine. On the kernel it would be the same file with
// `import http from 'node:http'`: the app is handed to http.createServer either way. (Express's
// own app.listen() calls node:http's createServer, so it would listen on the kernel.)
//   npx xdpnet run dist/examples/express-app.js     then:   curl http://<ip>:8080/users/7
import express from 'express';
import { http } from '../ts/index.js';

const port = Number(process.env.HTTP_PORT ?? 8080);

const app = express();
app.use(express.json());
app.get('/', (_req, res) => {
  res.type('text/plain').send('Hello from Express on xdpnet\n');
});
app.get('/users/:id', (req, res) => {
  res.json({ id: Number(req.params.id), name: `user ${req.params.id}` });
});
app.post('/echo', (req, res) => {
  res.json(req.body);
});

const server = http.createServer(app);
server.on('error', (err) => process.stderr.write(`express-app: ${err.message}\n`));
server.listen(port);
