import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { FeatureRow, PredictionBody } from './schema/validators.js';
import type { Metrics } from './metrics.js';
import { UpstreamFailure, type UpstreamPrediction } from './upstream/client.js';
import type { Predictor } from './upstream/resilient.js';

export interface BatchMember {
  requestId: string;
  deadline: number;
}

interface Pending extends BatchMember {
  row: FeatureRow;
  resolve(result: UpstreamPrediction): void;
  reject(err: unknown): void;
}

export interface BatcherOptions {
  windowMs: number;
  maxRows: number;
  predictor: Predictor;
  metrics: Metrics;
  logger: Logger;
}

/** Members of every answer whose meaning docs/contract.md fixes: per row, or the same for every row. */
const PER_ROW = new Set(['predictions', 'probabilities', 'scores']);
const WHOLE = new Set(['classes', 'model']);

/**
 * The answer of the caller at `index` of a batch of `rows` rows, cut from the upstream's answer member by member, in
 * the upstream's order (as an unbatched answer has them), so that it is the answer the service gives that caller's
 * row alone. `predictions`, `probabilities` and `scores` are per row, `classes` and `model` the same for every row; any other
 * member (an after_predict hook's) is per row when it is an array with one item per row of the batch, and otherwise
 * the same for every caller. docs/contract.md ("Micro-batching") states the rule for hooks.
 */
export function memberAnswer(body: PredictionBody, rows: number, index: number): PredictionBody {
  // No prototype: a member named "__proto__" (JSON.parse makes it an own property) stays a member.
  const own: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(body)) {
    const perRow = PER_ROW.has(key) || (!WHOLE.has(key) && Array.isArray(value) && value.length === rows);
    own[key] = perRow && Array.isArray(value) ? [value[index]] : value;
  }
  return own as unknown as PredictionBody;
}

/**
 * Collects single-row predictions that arrive within `windowMs` of the first one (or until `maxRows`) and sends them
 * upstream as one multi-row call: scikit-learn's per-call overhead dwarfs its per-row cost. Each caller gets back the
 * answer for its own row, cut from its position in the batch (memberAnswer); a batch of one is the upstream's answer
 * as it came, bytes included.
 */
export class MicroBatcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private draining = false;

  constructor(private readonly options: BatcherOptions) {}

  submit(row: FeatureRow, member: BatchMember): Promise<UpstreamPrediction> {
    return new Promise<UpstreamPrediction>((resolve, reject) => {
      this.pending.push({ ...member, row, resolve, reject });
      this.options.logger.debug(
        { requestId: member.requestId, waiting: this.pending.length },
        'queued for micro-batch',
      );
      if (this.draining || this.pending.length >= this.options.maxRows) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs);
    });
  }

  /** Sends whatever is waiting now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const members = this.pending.splice(0, this.options.maxRows);
      const sent = this.send(members);
      this.inFlight.add(sent);
      void sent.finally(() => this.inFlight.delete(sent));
    }
  }

  /** For shutdown: nothing waits for the window any more, and every batch already sent is awaited. */
  async drain(): Promise<void> {
    this.draining = true;
    this.flush();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  get waiting(): number {
    return this.pending.length;
  }

  private async send(members: Pending[]): Promise<void> {
    const { predictor, metrics, logger } = this.options;
    const batchId = members.length === 1 ? members[0]!.requestId : `batch-${randomUUID()}`;
    if (members.length > 1) logger.debug({ batchId, members: members.map((m) => m.requestId) }, 'sending micro-batch');
    metrics.batchSize.observe(members.length);
    const deadline = Math.min(...members.map((m) => m.deadline));
    let result: UpstreamPrediction;
    try {
      result = await predictor.predict(
        members.map((m) => m.row),
        { requestId: batchId, deadline },
      );
    } catch (err) {
      if (err instanceof UpstreamFailure && err.kind === 'problem' && members.length > 1) {
        // A 4xx names rows by their index in the batch; ask again row by row so each caller hears about its own row.
        await Promise.allSettled(
          members.map((m) =>
            predictor.predict([m.row], { requestId: m.requestId, deadline: m.deadline }).then(m.resolve, m.reject),
          ),
        );
        return;
      }
      for (const m of members) m.reject(err);
      return;
    }
    if (members.length === 1) {
      members[0]!.resolve(result);
      return;
    }
    const { body, modelVersion } = result;
    members.forEach((m, i) => {
      m.resolve({ body: memberAnswer(body, members.length, i), modelVersion });
    });
  }
}
