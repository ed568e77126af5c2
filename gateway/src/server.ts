import { createServer, type Server } from 'node:http';
import { createClient } from '@redis/client';
import { createApp, type AppDeps } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, stdoutDestination } from './logging.js';
import { createRedisStore } from './ratelimit.js';
import { SchemaFileError } from './schema/load.js';

function fail(message: string): never {
  process.stderr.write(`sci-eb-gateway: ${message}\n`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}

// pino flushes lines still queued for the asynchronous stdout writer on process exit, whoever calls process.exit.
const logger = createLogger(config.LOG_LEVEL, stdoutDestination());
process.on('unhandledRejection', (reason) => {
  logger.fatal({ err: reason }, 'unhandled promise rejection');
  process.exit(1);
});

const deps: AppDeps = { logger, collectDefaultMetrics: true };
let redis: ReturnType<typeof createClient> | undefined;
if (config.REDIS_URL) {
  // No offline queue: while Redis is away, rate-limit lookups fail at once (and are counted on this instance,
  // RATE_LIMIT_ON_STORE_ERROR=local) instead of holding predictions until it returns.
  redis = createClient({ url: config.REDIS_URL, disableOfflineQueue: true });
  redis.on('error', (err: unknown) => logger.error({ err }, 'redis error'));
  try {
    await redis.connect();
  } catch (err) {
    fail(`cannot connect to REDIS_URL: ${(err as Error).message}`);
  }
  deps.rateLimitStore = createRedisStore(redis);
}

let app: ReturnType<typeof createApp>;
try {
  app = createApp(config, deps);
} catch (err) {
  if (err instanceof SchemaFileError || err instanceof Error) fail(err.message);
  throw err;
}

const server: Server = createServer(app).listen(config.PORT, config.HOST, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info(
    {
      host: config.HOST,
      port,
      upstream: new URL(config.UPSTREAM_URL).origin,
      model: { name: app.gateway.schema.model.name, version: app.gateway.schema.model.version },
    },
    'listening',
  );
});
// Longer than any load balancer's idle timeout (ALB: 60 s), so the proxy, not this server, closes idle connections.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal, inFlight: app.gateway.inFlight() }, 'draining');
  server.close();
  server.closeIdleConnections();
  const drained = await app.gateway.drain(config.DRAIN_TIMEOUT_MS);
  if (!drained) logger.warn({ inFlight: app.gateway.inFlight() }, 'drain timeout; closing remaining connections');
  server.closeAllConnections();
  await app.gateway.close();
  if (redis) await redis.close().catch(() => undefined);
  logger.info({ drained }, 'stopped');
  process.exit(drained ? 0 : 1);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
