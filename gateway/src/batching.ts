import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { FeatureRow } from './schema/validators.js';
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

/**
 * Collects single-row predictions that arrive within `windowMs` of the first one (or until `maxRows`) and sends them
 * upstream as one multi-row call: scikit-learn's per-call overhead dwarfs its per-row cost. Each caller gets back a
 * one-row answer cut from its own position in the batch.
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
    const { body, modelVersion } = result;
    members.forEach((m, i) => {
      // Same member order as an unbatched answer, so a caller cannot tell the difference.
      const own: UpstreamPrediction['body'] = {
        predictions: [body.predictions[i]!],
        ...(body.probabilities ? { probabilities: [body.probabilities[i]!] } : {}),
        ...(body.scores ? { scores: [body.scores[i]!] } : {}),
        ...(body.classes ? { classes: body.classes } : {}),
        model: body.model,
      };
      m.resolve({ body: own, modelVersion });
    });
  }
}
