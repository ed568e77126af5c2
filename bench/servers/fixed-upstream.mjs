// The fast stand-in for the Flask service in case 1: node:http, keep-alive, answers every POST /v1/predict at once
// with a canned one-row prediction for the model of the given schema.json (same name and version, so the gateway
// accepts it without a version warning), and GET /health like the real service. No model cost at all.
//   node bench/servers/fixed-upstream.mjs <port> <schema.json>
import http from 'node:http';
import { readFileSync } from 'node:fs';

const port = Number(process.argv[2]);
const schema = JSON.parse(readFileSync(process.argv[3], 'utf8'));
const model = { name: schema.model.name, version: schema.model.version };
const classes = schema.target.classes;
const prediction = JSON.stringify({
  predictions: [classes[0]],
  probabilities: [classes.map((_, i) => (i === 0 ? 1 : 0))],
  classes,
  model,
});
const health = JSON.stringify({ status: 'ok', model });
const headers = { 'content-type': 'application/json', 'x-model-version': model.version };

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, headers);
    res.end(req.url === '/v1/schema' ? JSON.stringify(schema) : health);
    return;
  }
  // Read (and drop) the body, as any real server must before answering on a keep-alive connection.
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(prediction);
  });
});
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
