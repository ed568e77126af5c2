import type { OpenApiDocument } from './openapi.js';

/**
 * What the running configuration changes in the served /openapi.json (and so on /docs, which is built from it):
 * src/generated/openapi.json describes a gateway with API keys, the default; a gateway started with
 * ALLOW_ANONYMOUS=true and no key hashes asks for no key anywhere, and a document that said otherwise would send
 * frontend teams looking for a key that does not exist.
 */
export function describeRunningGateway(doc: OpenApiDocument, running: { apiKeys: boolean }): OpenApiDocument {
  if (running.apiKeys) return doc;
  const paths: Record<string, unknown> = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    const operations: Record<string, unknown> = {};
    for (const [method, op] of Object.entries(item as Record<string, Record<string, unknown>>))
      operations[method] = { ...op, security: [] };
    paths[path] = operations;
  }
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
