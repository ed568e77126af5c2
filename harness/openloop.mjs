// Open-loop load: a fixed request rate whatever the answers do (the next request is sent on schedule, not when the
// previous answer arrived). Each request is one distinct single-row prediction with a client-side timeout; each
// outcome is recorded: send time, status, latency, body shape.
import http from 'node:http';

/** 'prediction' | 'problem' (well-formed problem+json with status = HTTP status) | 'malformed:<why>' */
export function bodyShape(status, contentType, text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return 'malformed:not-json';
  }
  if (status === 200) {
    if (!/^application\/json/.test(contentType ?? '')) return 'malformed:content-type';
    return Array.isArray(body?.predictions) && body.predictions.length === 1 ? 'prediction' : 'malformed:prediction';
  }
  if (!/^application\/problem\+json/.test(contentType ?? '')) return 'malformed:content-type';
  const ok =
    body &&
    typeof body === 'object' &&
    body.status === status &&
    typeof body.type === 'string' &&
    typeof body.title === 'string';
  return ok ? 'problem' : 'malformed:problem';
}

/**
 * Sends `bodies[i]` at t0 + i / rate seconds for `seconds`. Returns { promise, stop() }, the promise resolving to
 * the records once every request sent has settled. Times are ms since `t0` (Date.now()-based epoch given).
 */
export function openLoop({ port, path = '/v1/predict', bodies, rate, seconds, t0, clientTimeoutMs }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const records = [];
  const pending = new Set();
  const total = Math.floor(rate * seconds);
  let next = 0;
  let stopped = false;

  const send = (i) => {
    const body = bodies[i % bodies.length];
    const rec = { i, scheduledMs: (i * 1000) / rate, sentMs: Date.now() - t0 };
    records.push(rec);
    const started = performance.now();
    const p = new Promise((resolve) => {
      let done = false;
      const finish = (fields) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        Object.assign(rec, fields, {
          latencyMs: Math.round((performance.now() - started) * 10) / 10,
          doneMs: Date.now() - t0,
        });
        resolve();
      };
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            finish({
              status: res.statusCode,
              shape: bodyShape(res.statusCode, res.headers['content-type'], text),
              retryAfter: res.headers['retry-after'],
              problemType: res.statusCode !== 200 ? safeField(text, 'type') : undefined,
              problemDetail: res.statusCode !== 200 ? safeField(text, 'detail') : undefined,
            });
          });
          res.on('error', (err) => finish({ status: 0, error: `response: ${err.code ?? err.message}` }));
        },
      );
      const timer = setTimeout(() => {
        finish({ status: 0, error: 'client-timeout' });
        req.destroy();
      }, clientTimeoutMs);
      req.on('error', (err) => finish({ status: 0, error: err.code ?? err.message }));
      req.end(body);
    });
    pending.add(p);
    // finish() never rejects: the promise only reports that the request is over.
    void p.then(() => pending.delete(p));
  };

  const promise = new Promise((resolve) => {
    const tick = () => {
      const now = Date.now() - t0;
      while (!stopped && next < total && (next * 1000) / rate <= now) send(next++);
      if (stopped || next >= total) {
        void Promise.all([...pending]).then(() => {
          agent.destroy();
          resolve(records);
        });
        return;
      }
      setTimeout(tick, Math.max(1, Math.min(5, (next * 1000) / rate - now)));
    };
    tick();
  });
  return { promise, stop: () => (stopped = true), sent: () => next };
}

function safeField(text, field) {
  try {
    return JSON.parse(text)?.[field];
  } catch {
    return undefined;
  }
}
