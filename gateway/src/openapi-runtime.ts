import { RATE_LIMIT_HEADERS, type OpenApiDocument } from './openapi.js';

type Responses = Record<string, { headers?: Record<string, unknown> } & Record<string, unknown>>;

/** The responses without what this gateway never sends: 401 without keys, 429 and RateLimit without a limit. */
function runningResponses(responses: Responses, running: { apiKeys: boolean; rateLimit: boolean }): Responses {
  const out: Responses = {};
  for (const [status, response] of Object.entries(responses)) {
    if ((status === '401' && !running.apiKeys) || (status === '429' && !running.rateLimit)) continue;
    if (running.rateLimit || !response.headers) out[status] = response;
    else {
      const headers = Object.fromEntries(
        Object.entries(response.headers).filter(([name]) => !Object.hasOwn(RATE_LIMIT_HEADERS, name)),
      );
      out[status] = { ...response, headers };
    }
  }
  return out;
}

/**
 * What the running configuration changes in the served /openapi.json (and so on /docs, which is built from it):
 * src/generated/openapi.json describes a gateway with API keys, the default; a gateway started with
 * ALLOW_ANONYMOUS=true and no key hashes asks for no key anywhere, and a document that said otherwise would send
 * frontend teams looking for a key that does not exist (so it lists no 401 either). Without a rate limit
 * (RATE_LIMIT_MAX=0) it lists no 429 and no RateLimit headers.
 */
export function describeRunningGateway(
  doc: OpenApiDocument,
  running: { apiKeys: boolean; rateLimit: boolean },
): OpenApiDocument {
  if (running.apiKeys && running.rateLimit) return doc;
  const paths: Record<string, unknown> = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    const operations: Record<string, unknown> = {};
    for (const [method, op] of Object.entries(item as Record<string, Record<string, unknown>>))
      operations[method] = {
        ...op,
        ...(running.apiKeys ? {} : { security: [] }),
        responses: runningResponses(op['responses'] as Responses, running),
      };
    paths[path] = operations;
  }
  if (running.apiKeys) return { ...doc, paths };
  const info = doc['info'] as { description?: string } & Record<string, unknown>;
  return {
    ...doc,
    info: {
      ...info,
      description:
        `${info.description ?? ''} This gateway runs without API keys (ALLOW_ANONYMOUS=true): no endpoint needs one.`.trim(),
    },
    paths,
    components: { ...doc.components, securitySchemes: {} },
  };
}
