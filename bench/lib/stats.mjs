export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function r(x, digits = 2) {
  if (typeof x !== 'number' || Number.isNaN(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** { min, median, max, n } of a list of numbers. */
export function spread(values, digits = 2) {
  const v = values.filter((x) => typeof x === 'number' && !Number.isNaN(x));
  if (v.length === 0) return undefined;
  return { min: r(Math.min(...v), digits), median: r(median(v), digits), max: r(Math.max(...v), digits), n: v.length };
}

/** Summary of repeated load runs: spread of throughput and latency percentiles, total errors. */
export function summariseRuns(runs) {
  return {
    rps: spread(
      runs.map((x) => x.rps),
      1,
    ),
    p50Ms: spread(
      runs.map((x) => x.p50Ms),
      3,
    ),
    p90Ms: spread(
      runs.map((x) => x.p90Ms),
      3,
    ),
    p99Ms: spread(
      runs.map((x) => x.p99Ms),
      3,
    ),
    requests: runs.reduce((a, x) => a + x.requests, 0),
    errors: runs.reduce((a, x) => a + x.errors, 0),
    cpu: {
      ...Object.fromEntries(Object.keys(runs[0]?.cpu ?? {}).map((k) => [k, r(median(runs.map((x) => x.cpu[k])), 2)])),
      // All gunicorn workers together, per run then the median (which worker is busy can change between runs).
      ...(Object.keys(runs[0]?.cpu ?? {}).some((k) => /^worker\d/.test(k))
        ? {
            workers: r(
              median(
                runs.map((x) =>
                  Object.entries(x.cpu)
                    .filter(([k]) => /^worker\d/.test(k))
                    .reduce((a, [, v]) => a + v, 0),
                ),
              ),
              2,
            ),
          }
        : {}),
    },
  };
}

/** Paired ratios a/b, one per round (both measured in the same round). */
export function pairedRatios(as, bs, pick) {
  return spread(
    as.map((a, i) => pick(a) / pick(bs[i])),
    3,
  );
}
