// The baseline of case 1: the least a reverse proxy can do in Node. node:http server, keep-alive http.Agent to the
// upstream, the request body streamed through, status and body streamed back; no validation, no logging, no
// metrics. What the gateway does on top of this is what case 1 measures.
//   node bench/servers/baseline-proxy.mjs <port> <upstream port>
import http from 'node:http';

const port = Number(process.argv[2]);
const upstreamPort = Number(process.argv[3]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

const server = http.createServer((req, res) => {
  const up = http.request(
    {
      host: '127.0.0.1',
      port: upstreamPort,
      method: req.method,
      path: req.url,
      agent,
      headers: {
        'content-type': req.headers['content-type'] ?? 'application/json',
        'content-length': req.headers['content-length'] ?? '0',
      },
    },
    (upRes) => {
      res.writeHead(upRes.statusCode, { 'content-type': upRes.headers['content-type'] ?? 'application/json' });
      upRes.pipe(res);
    },
  );
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
});
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
