import http from 'node:http';

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface RawRequestOptions {
  method?: string;
  /** Sent exactly as given ('//x', '%2e%2e', ';x'); only host and port come from the base URL. */
  path?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

function once(
  agent: http.Agent,
  url: string,
  options: RawRequestOptions,
): Promise<RawAnswer & { retryable?: boolean }> {
  const base = new URL(url);
  const body =
    options.body === undefined
      ? undefined
      : Buffer.isBuffer(options.body)
        ? options.body
        : Buffer.from(options.body, 'utf8');
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        path: options.path ?? '/v1/predict',
        method: options.method ?? 'POST',
        headers: {
          ...(body === undefined ? {} : { 'content-length': String(body.length) }),
          ...(options.headers ?? {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed as idle just as it was reused: the request never reached the server
      // (Node's documented race); it is safe to send once more on a fresh socket.
      if (req.reusedSocket && err.code === 'ECONNRESET') resolve({ status: 0, headers: {}, text: '', retryable: true });
      else reject(err);
    });
    req.end(body);
  });
}

/**
 * One request with exactly these bytes and headers (no serialisation, no default content type), over a keep-alive
 * agent so thousands of requests do not exhaust ephemeral ports.
 */
export async function rawRequest(agent: http.Agent, url: string, options: RawRequestOptions): Promise<RawAnswer> {
  const first = await once(agent, url, options);
  if (!first.retryable) return first;
  const second = await once(agent, url, options);
  if (second.retryable) throw new Error('the connection was reset twice');
  return second;
}
