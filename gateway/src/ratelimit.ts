import { ipKeyGenerator, rateLimit, type IncrementResponse, type Options, type Store } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Logger } from 'pino';
import { clientIp, pathOf, type GatewayRequest, type GatewayResponse, type Middleware } from './pipeline.js';
import { makeProblem, sendProblem } from './problems.js';

export interface RateLimitOptions {
  max: number;
  windowMs: number;
  failOpen: boolean;
  store?: Store;
  logger: Logger;
  /** TRUST_PROXY's hop rule, so anonymous callers are counted by the same address Express's req.ip names. */
  trust: (address: string, index: number) => boolean;
}

/** Anything with node-redis' sendCommand; kept structural so tests and server.ts share one client type. */
export interface RedisCommandSender {
  sendCommand(args: string[]): Promise<unknown>;
}

/** Shared counters for several gateway instances behind one load balancer (EB autoscaling). */
export function createRedisStore(client: RedisCommandSender, prefix = 'sci-eb-gateway:rl:'): Store {
  return new RedisStore({
    sendCommand: (...args: string[]) => client.sendCommand(args) as Promise<RedisReply>,
    prefix,
  });
}

/**
 * express-rate-limit reports store failures with console.error and a stack per request; during a Redis outage that
 * floods the logs with unstructured text. This wrapper logs through pino at most every 10 s and decides fail-open
 * or fail-closed itself.
 */
export class GuardedStore implements Store {
  private lastLogged = 0;
  readonly prefix: string;
  readonly localKeys: boolean;

  constructor(
    private readonly inner: Store,
    private readonly logger: Logger,
    private readonly failOpen: boolean,
  ) {
    this.prefix = inner.prefix ?? '';
    this.localKeys = inner.localKeys ?? false;
  }

  init(options: Options): void | Promise<void> {
    return this.inner.init?.(options);
  }

  async increment(key: string): Promise<IncrementResponse> {
    try {
      return await this.inner.increment(key);
    } catch (err) {
      if (Date.now() - this.lastLogged > 10_000) {
        this.lastLogged = Date.now();
        this.logger.error({ err: (err as Error).message, failOpen: this.failOpen }, 'rate-limit store unavailable');
      }
      if (this.failOpen) return { totalHits: 0, resetTime: undefined };
      throw err;
    }
  }

  async decrement(key: string): Promise<void> {
    await Promise.resolve(this.inner.decrement(key)).catch(() => undefined);
  }

  async resetKey(key: string): Promise<void> {
    await this.inner.resetKey(key);
  }
}

/** The 429's detail (also the OpenAPI document's example). */
export const RATE_LIMITED_DETAIL = 'The request rate limit for this client is exhausted; see Retry-After.';

export function createRateLimiter(options: RateLimitOptions): Middleware {
  const limiter = rateLimit({
    windowMs: options.windowMs,
    limit: options.max,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // A key's holder is limited as one client wherever it calls from; anonymous callers by address (an IPv6 /56 is
    // one client, as one customer usually gets a whole prefix). The address is only right when TRUST_PROXY matches
    // the proxies in front (ALB + nginx on EB: 2).
    keyGenerator: (req, res) => {
      const keyId = res.locals['apiKeyId'] as string | undefined;
      return keyId ? `key:${keyId}` : `ip:${ipKeyGenerator(clientIp(req as GatewayRequest, options.trust))}`;
    },
    // Predictions matter more than exact limits: an unreachable Redis lets requests through (logged), unless configured.
    passOnStoreError: options.failOpen,
    ...(options.store ? { store: new GuardedStore(options.store, options.logger, options.failOpen) } : {}),
    handler: (req, res, _next, limiterOptions) => {
      options.logger.warn(
        { requestId: res.getHeader('X-Request-Id'), route: pathOf(req as GatewayRequest) },
        'rate limited',
      );
      sendProblem(res, makeProblem('rate-limited', limiterOptions.statusCode, RATE_LIMITED_DETAIL));
    },
  });
  // express-rate-limit needs one Express response method, append() for the draft-8 headers; on the predict fast
  // path the response is Node's own, whose appendHeader does the same.
  return (req: GatewayRequest, res: GatewayResponse, next) => {
    const response = res as GatewayResponse & { append?: (name: string, value: string) => unknown };
    response.append ??= (name, value) => response.appendHeader(name, value);
    return limiter(req as never, response as never, next) as Promise<void>;
  };
}
