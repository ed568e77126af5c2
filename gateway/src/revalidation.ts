import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

// The documents that change only when the gateway is deployed with a new model or configuration (/openapi.json and
// /v1/schema): a strong ETag of their bytes and `Cache-Control: no-cache`, so browsers, code generators and the docs
// page may keep a copy but ask each time, and an unchanged document costs a 304 with no body. `private`: with API keys
// on, /v1/schema is an authenticated answer that shared caches must not keep.

export interface RevalidatedDocument {
  text: string;
  etag: string;
  /** The 304 answer applies: the request's If-None-Match names this document's ETag (or `*`). */
  matches(headers: IncomingHttpHeaders): boolean;
  headers: Record<string, string>;
}

export function revalidatedDocument(text: string): RevalidatedDocument {
  const etag = `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`;
  return {
    text,
    etag,
    headers: { ETag: etag, 'Cache-Control': 'private, no-cache' },
    matches(headers) {
      const header = headers['if-none-match'];
      if (header === undefined) return false;
      // RFC 9110 13.1.2: weak comparison; a list of tags, or "*".
      return header
        .split(',')
        .map((tag) => tag.trim().replace(/^W\//, ''))
        .some((tag) => tag === '*' || tag === etag);
    },
  };
}
