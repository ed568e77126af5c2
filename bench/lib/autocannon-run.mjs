// Fallback load generator (when wrk cannot be installed): autocannon from the gateway's devDependencies, run as its
// own process. autocannon's histogram keeps whole milliseconds, too coarse for a proxy that adds ~0.3 ms, so every
// response time is also recorded here as a float. Prints the same BENCHJSON line as the wrk script.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { percentile } from './load.mjs';

const require = createRequire(new URL('../../gateway/package.json', import.meta.url));
const autocannon = require('autocannon');
const { url, bodies, connections, seconds } = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const latencies = [];
let non2xx = 0;
const started = process.hrtime.bigint();
const instance = autocannon({
  url,
  connections,
  duration: seconds,
  timeout: 30,
  requests: bodies.map((body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body })),
});
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  latencies.push(responseTime);
  if (statusCode < 200 || statusCode >= 400) non2xx++;
});
const result = await instance;
const durationUs = Number(process.hrtime.bigint() - started) / 1000;
latencies.sort((a, b) => a - b);
const us = (ms) => Math.round(ms * 1000);
const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
const summary = {
  requests: latencies.length,
  durationUs: Math.round(durationUs),
  bytes: result.throughput.total,
  errors: { connect: 0, read: result.errors, write: 0, status: non2xx, timeout: result.timeouts },
  latencyUs: {
    min: us(latencies[0] ?? 0),
    p50: us(percentile(latencies, 50)),
    p90: us(percentile(latencies, 90)),
    p99: us(percentile(latencies, 99)),
    max: us(latencies.at(-1) ?? 0),
    mean: us(mean),
  },
};
process.stdout.write(`BENCHJSON ${JSON.stringify(summary)}\n`);
