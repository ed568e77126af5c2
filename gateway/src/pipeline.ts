import type { IncomingMessage, ServerResponse } from 'node:http';
import proxyaddr from 'proxy-addr';

/**
 * The request and response every gateway middleware is written against: Node's own objects plus the two fields
 * Express adds that the middlewares use. Express's Request/Response satisfy these, and so do the plain objects the
 * predict fast path (see app.ts) hands over, so one set of middlewares serves both.
 */
export type GatewayRequest = IncomingMessage & { body?: unknown; originalUrl?: string };
export type GatewayResponse = ServerResponse & { locals: Record<string, unknown> };
export type Next = (err?: unknown) => void;
export type Middleware = (req: GatewayRequest, res: GatewayResponse, next: Next) => void | Promise<void>;

/** The path without the query string; originalUrl because Express rewrites req.url inside mounted middleware. */
export function pathOf(req: GatewayRequest): string {
  const url = req.originalUrl ?? req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * TRUST_PROXY as a hop count, the same function Express is given (`trust proxy`), so req.ip under Express and
 * clientIp() on the fast path always name the same address.
 */
export function trustHops(hops: number): (address: string, index: number) => boolean {
  return (_address, index) => index < hops;
}

export function clientIp(req: GatewayRequest, trust: (address: string, index: number) => boolean): string {
  return proxyaddr(req, trust);
}

/** JSON text as a response, with the same Content-Type Express's res.json would send. */
export function sendJsonText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType = 'application/json; charset=utf-8',
): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/**
 * Runs connect-style middlewares in order, like Express does inside one route: `next()` goes on, `next(err)`, a
 * throw or a rejected promise goes to `onError`, and a middleware that answers simply does not call next.
 */
export function runChain(
  chain: readonly Middleware[],
  req: GatewayRequest,
  res: GatewayResponse,
  onError: (err: unknown, req: GatewayRequest, res: GatewayResponse) => void,
): void {
  let index = 0;
  const fail = (err: unknown) => onError(err, req, res);
  const next: Next = (err) => {
    if (err !== undefined && err !== null) return fail(err);
    const step = chain[index++];
    if (!step) return;
    try {
      const result = step(req, res, next);
      if (result) result.then(undefined, fail);
    } catch (err) {
      fail(err);
    }
  };
  next();
}
