// The scenario of issue 14, as an operator meets it: the gateway connected straight to gunicorn (no fault proxy),
// with its defaults, a fixed request rate, gunicorn stopped (SIGTERM, as a deploy or a crash-restart would) for a
// few seconds and started again with the Procfile command. Measured: from "upstream healthy" (the first 200 of a
// /health poll every 20 ms, straight to gunicorn) to the first 200 the gateway's callers get, and to the last error
// they get (answer times).
import { sleep } from './procs.mjs';
import { openLoop } from './openloop.mjs';

/** true when gunicorn's /health on `port` answers 200 within `timeoutMs`. */
export async function healthy(port, timeoutMs = 300) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.text();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * { gatewayPort, upstreamPort, bodies, rate, beforeMs, downMs, afterMs, clientTimeoutMs, stopUpstream, startUpstream, log }
 * stopUpstream() resolves when gunicorn has exited; startUpstream() starts it and resolves when it is up.
 */
export async function directRestart(o) {
  const t0 = Date.now();
  const now = () => Date.now() - t0;
  const loop = openLoop({
    port: o.gatewayPort,
    bodies: o.bodies,
    rate: o.rate,
    seconds: 600,
    t0,
    clientTimeoutMs: o.clientTimeoutMs,
  });
  await sleep(o.beforeMs);
  const stopMs = now();
  o.log(`  ${(stopMs / 1000).toFixed(1)} s stop gunicorn (SIGTERM)`);
  await o.stopUpstream();
  const stoppedMs = now();
  await sleep(Math.max(0, stopMs + o.downMs - now()));
  const startMs = now();
  o.log(`  ${(startMs / 1000).toFixed(1)} s start gunicorn`);
  let healthyMs;
  let polling = true;
  const poll = (async () => {
    while (polling && healthyMs === undefined) {
      if (await healthy(o.upstreamPort)) healthyMs = now();
      else await sleep(20);
    }
  })();
  const started = o.startUpstream();
  await poll.then(
    () => undefined,
    () => undefined,
  );
  await started;
  polling = false;
  await poll;
  o.log(`  ${(healthyMs / 1000).toFixed(2)} s gunicorn answers /health`);
  await sleep(o.afterMs);
  loop.stop();
  const records = await loop.promise;
  return { stopMs, stoppedMs, startMs, healthyMs, endMs: now(), records };
}

/** The numbers of the scenario; a failure is anything but a 200 with one prediction. */
export function summariseRestart(r) {
  const failed = (x) => !(x.status === 200 && x.shape === 'prediction');
  // Requests sent before gunicorn had exited may still be answered by its draining workers; they do not count.
  const firstOk = r.records.filter((x) => !failed(x) && x.sentMs >= r.stoppedMs).sort((a, b) => a.doneMs - b.doneMs)[0];
  const errors = r.records.filter((x) => failed(x) && x.doneMs >= r.stopMs);
  const lastError = errors.sort((a, b) => a.doneMs - b.doneMs).at(-1);
  const byStatus = {};
  for (const x of errors) {
    const k = x.status === 0 ? `client:${x.error}` : `${x.status} ${x.problemType ?? ''}`.trim();
    byStatus[k] = (byStatus[k] ?? 0) + 1;
  }
  const duringOutage = r.records.filter((x) => x.sentMs >= r.stoppedMs && x.sentMs < r.healthyMs);
  const latencies = duringOutage.map((x) => x.latencyMs).sort((a, b) => a - b);
  return {
    requests: r.records.length,
    errors: errors.length,
    errorsByStatus: byStatus,
    stopMs: r.stopMs,
    stoppedMs: r.stoppedMs,
    startMs: r.startMs,
    healthyMs: r.healthyMs,
    firstOkAfterHealthyMs: firstOk ? Math.round(firstOk.doneMs - r.healthyMs) : undefined,
    lastErrorAfterHealthyMs: lastError ? Math.round(lastError.doneMs - r.healthyMs) : undefined,
    outageRequests: duringOutage.length,
    outageP50Ms: latencies.length ? latencies[Math.floor(latencies.length / 2)] : undefined,
    outageMaxMs: latencies.length ? latencies.at(-1) : undefined,
  };
}
