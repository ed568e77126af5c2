import {
  ipKeyGenerator,
  MemoryStore,
  rateLimit,
  type IncrementResponse,
  type Options,
  type Store,
} from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Logger } from 'pino';
import { clientIp, pathOf, type GatewayRequest, type GatewayResponse, type Middleware } from './pipeline.js';
import { makeProblem, sendProblem } from './problems.js';

/** What a shared store's failure (Redis down) does: count on this instance instead (default), or let all through, or none. */
export type StoreErrorPolicy = 'local' | 'open' | 'closed';

export interface RateLimitOptions {
  max: number;
  windowMs: number;
  onStoreError: StoreErrorPolicy;
  /**
   * How many gateway instances may run at once (the auto scaling group's MaxSize). Without a shared store each
   * instance counts alone, so each allows max / instances: however the load balancer spreads a client's requests, and
   * however many instances scaling adds, the fleet never allows more than max per window.
   */
  instances: number;
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
 * A shared store (Redis) with a decided failure mode. express-rate-limit would report each failure with console.error
 * and a stack per request; this logs through pino at most every 10 s. While the store fails, requests are counted by
 * a memory store on this instance instead, each hit weighing `instances` (the fleet's worst case), so the limit still
 * holds, and predictions still flow (RATE_LIMIT_ON_STORE_ERROR=local, the default); or all pass ('open'); or none
 * ('closed': the limiter's error becomes a 500).
 */
export class GuardedStore implements Store {
  private lastLogged = 0;
  private readonly fallback = new MemoryStore();
  readonly prefix: string;
  readonly localKeys: boolean;

  constructor(
    private readonly inner: Store,
    private readonly logger: Logger,
    private readonly onError: StoreErrorPolicy,
    private readonly instances = 1,
  ) {
    this.prefix = inner.prefix ?? '';
    this.localKeys = inner.localKeys ?? false;
  }

  init(options: Options): void | Promise<void> {
    this.fallback.init(options);
    return this.inner.init?.(options);
  }

  async increment(key: string): Promise<IncrementResponse> {
    try {
      return await this.inner.increment(key);
    } catch (err) {
      if (Date.now() - this.lastLogged > 10_000) {
        this.lastLogged = Date.now();
        this.logger.error({ err: (err as Error).message, onStoreError: this.onError }, 'rate-limit store unavailable');
      }
      if (this.onError === 'open') return { totalHits: 0, resetTime: undefined };
      if (this.onError === 'closed') throw err;
      const local = await this.fallback.increment(key);
      return { totalHits: local.totalHits * this.instances, resetTime: local.resetTime };
    }
  }

  async decrement(key: string): Promise<void> {
    await Promise.resolve(this.inner.decrement(key)).catch(() => undefined);
    await this.fallback.decrement(key);
  }

  async resetKey(key: string): Promise<void> {
    await this.fallback.resetKey(key);
    await this.inner.resetKey(key);
  }
}

/** The 429's detail (also the OpenAPI document's example). */
export const RATE_LIMITED_DETAIL = 'The request rate limit for this client is exhausted; see Retry-After.';

export function createRateLimiter(options: RateLimitOptions): Middleware {
  // Without a shared store, each instance's share of the budget (at least 1): see RateLimitOptions.instances.
  const limit = options.store ? options.max : Math.max(1, Math.floor(options.max / options.instances));
  if (!options.store && options.instances > 1)
    options.logger.warn(
      { max: options.max, instances: options.instances, perInstance: limit },
      'no shared rate-limit store (REDIS_URL): each instance allows its share of RATE_LIMIT_MAX',
    );
  const limiter = rateLimit({
    windowMs: options.windowMs,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Counted per key *and* client address (an IPv6 /56 is one client, as one customer usually gets a whole prefix):
    // a key leaked from a browser app lets whoever holds it spend only their own address's budget, never that of the
    // key's other users. Anonymous callers by address alone. The address is only right when TRUST_PROXY matches the
    // proxies in front (ALB + nginx on EB: 2).
    keyGenerator: (req, res) => {
      const keyId = res.locals['apiKeyId'] as string | undefined;
      const address = ipKeyGenerator(clientIp(req as GatewayRequest, options.trust));
      return keyId ? `key:${keyId}:ip:${address}` : `ip:${address}`;
    },
    // 'open' is the only policy under which a store error reaches express-rate-limit as "let it pass".
    passOnStoreError: options.onStoreError === 'open',
    ...(options.store
      ? { store: new GuardedStore(options.store, options.logger, options.onStoreError, options.instances) }
      : {}),
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
