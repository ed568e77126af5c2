// A stand-in for the EB service on loopback, for benchmarks only.
//   node bench/upstream.mjs fixed        answers every POST /v1/predict at once with a fixed body (no model cost)
//   node bench/upstream.mjs serial <ms>  one "worker": calls queue and each costs <ms> plus 0.01 ms per row,
//                                        like a sync gunicorn worker whose scikit-learn call overhead dominates
// Prints its port on stdout.
import http from 'node:http';

const mode = process.argv[2] ?? 'fixed';
const costMs = Number(process.argv[3] ?? 5);
const fixed = JSON.stringify({
  predictions: ['setosa'],
  probabilities: [[0.97, 0.02, 0.01]],
  classes: ['setosa', 'versicolor', 'virginica'],
  model: { name: 'iris-classifier', version: '3f2a9c0d41b7' },
});
let busyUntil = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', model: { name: 'iris-classifier', version: '3f2a9c0d41b7' } }));
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const headers = { 'content-type': 'application/json', 'x-model-version': '3f2a9c0d41b7' };
    if (mode === 'fixed') {
      res.writeHead(200, headers);
      res.end(fixed);
      return;
    }
    const rows = JSON.parse(Buffer.concat(chunks).toString('utf8')).instances.length;
    const start = Math.max(Date.now(), busyUntil);
    busyUntil = start + costMs + rows * 0.01;
    setTimeout(() => {
      res.writeHead(200, headers);
      res.end(
        JSON.stringify({
          predictions: Array(rows).fill('setosa'),
          probabilities: Array(rows).fill([0.97, 0.02, 0.01]),
          classes: ['setosa', 'versicolor', 'virginica'],
          model: { name: 'iris-classifier', version: '3f2a9c0d41b7' },
        }),
      );
    }, busyUntil - Date.now());
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
