// A tiny TCP proxy (node:net) between the gateway and gunicorn, where upstream faults are injected:
//   normal  bytes flow both ways untouched
//   slow    every byte the gateway sends is held for `delayMs` before it goes on (order per connection is kept;
//           bytes already held stay held after the mode returns to normal)
//   503     the proxy answers `HTTP/1.1 503` itself (a problem+json body, `Connection: close`) and forwards nothing
// When the upstream refuses (gunicorn is down) the gateway's connection is reset.
import net from 'node:net';
import { once } from 'node:events';

const BODY_503 = JSON.stringify({
  type: 'urn:sci-eb:problem:upstream-unavailable',
  title: 'Service Unavailable',
  status: 503,
  detail: 'injected by the reliability proxy',
});
const RESPONSE_503 = Buffer.from(
  `HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(BODY_503)}\r\nConnection: close\r\n\r\n${BODY_503}`,
);

export async function startFaultProxy(upstreamPort, { host = '127.0.0.1' } = {}) {
  const state = {
    mode: 'normal',
    delayMs: 0,
    counts: { connections: 0, answered503: 0, delayedChunks: 0, upstreamErrors: 0 },
  };
  const sockets = new Set();

  const server = net.createServer((client) => {
    state.counts.connections++;
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    let upstream;
    let releaseAt = 0; // time before which nothing on this connection may be written upstream (keeps order)
    let answered = false;

    const answer503 = () => {
      if (answered) return;
      answered = true;
      state.counts.answered503++;
      upstream?.destroy();
      client.end(RESPONSE_503);
    };
    const connectUpstream = () => {
      upstream = net.connect({ port: upstreamPort, host });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('data', (chunk) => client.write(chunk));
      upstream.on('end', () => client.end());
      upstream.on('error', () => {
        state.counts.upstreamErrors++;
        if (!client.destroyed) client.resetAndDestroy();
      });
      client.on('close', () => upstream.destroy());
    };

    if (state.mode === '503') {
      client.once('data', answer503);
      return;
    }
    connectUpstream();
    client.on('data', (chunk) => {
      if (answered) return;
      if (state.mode === '503') return answer503();
      const now = Date.now();
      const at = Math.max(state.mode === 'slow' ? now + state.delayMs : now, releaseAt);
      releaseAt = at;
      if (at <= now) upstream.write(chunk);
      else {
        state.counts.delayedChunks++;
        setTimeout(() => {
          if (!upstream.destroyed) upstream.write(chunk);
        }, at - now);
      }
    });
    client.on('end', () => {
      const wait = Math.max(0, releaseAt - Date.now());
      setTimeout(() => upstream?.end(), wait);
    });
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    port: server.address().port,
    state,
    setMode(mode, delayMs = 0) {
      state.mode = mode;
      state.delayMs = delayMs;
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
