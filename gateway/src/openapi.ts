import { z } from 'zod';
import { CONTRACT, ERROR_CODES, PROBLEM_KINDS, type ProblemKind } from './contract.js';
import { answerExample, invalidExampleBody, problemExamples } from './openapi-examples.js';
import type { Problem } from './problems.js';
import { clientPackageName } from './client-package-name.js';
import { PublicModelSchema, publicSchema } from './schema/load.js';
import type { Validators } from './schema/validators.js';

// OpenAPI 3.1 schema objects *are* JSON Schema 2020-12, which is what zod 4's own z.toJSONSchema emits, so the spec
// comes from the very zod objects that validate requests, with no second library (zod-to-openapi) to keep in step.

const problemTypes = PROBLEM_KINDS.map((kind) => CONTRACT.typePrefix + kind) as [string, ...string[]];

/** RFC 9457 as the contract fixes it: the members in this order, the type URIs and error codes contract.json has. */
const ProblemSchema = z.object({
  type: z.enum(problemTypes).describe(`${CONTRACT.typePrefix}<kind>; the title is constant per type`),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string().optional(),
  errors: z
    .array(
      z.object({
        pointer: z.string().describe('RFC 6901 pointer into the request body, e.g. /instances/3/petal_width'),
        code: z.enum(ERROR_CODES),
        detail: z.string().describe('Why, in a fixed sentence: never the submitted value'),
      }),
    )
    .max(CONTRACT.maxErrors)
    .optional()
    .describe(`One entry per problem, in the contract's order; at most ${CONTRACT.maxErrors}`),
  errorsOmitted: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(`How many problems beyond the first ${CONTRACT.maxErrors} are not listed`),
  requestId: z.string().optional(),
});

const HealthSchema = z.object({
  status: z.string(),
  model: z.object({ name: z.string(), version: z.string() }).optional(),
});

const jsonSchemaOptions = (
  registry: z.core.$ZodRegistry<{ id?: string }>,
  overrides?: ReadonlyMap<z.ZodType, Record<string, unknown>>,
) =>
  ({
    target: 'draft-2020-12',
    io: 'input',
    metadata: registry,
    uri: (id: string) => `#/components/schemas/${id}`,
    unrepresentable: 'any',
    override: (ctx: { zodSchema: unknown; jsonSchema: Record<string, unknown> }) => {
      const extra = overrides?.get(ctx.zodSchema as z.ZodType);
      if (extra) Object.assign(ctx.jsonSchema, extra);
    },
  }) as const;

function componentSchemas(
  registry: z.core.$ZodRegistry<{ id?: string }>,
  overrides?: ReadonlyMap<z.ZodType, Record<string, unknown>>,
): Record<string, Record<string, unknown>> {
  const { schemas } = z.toJSONSchema(registry, jsonSchemaOptions(registry, overrides)) as {
    schemas: Record<string, Record<string, unknown>>;
  };
  for (const schema of Object.values(schemas)) {
    // Components live inside the OpenAPI document; a per-component $schema/$id would re-root their references.
    delete schema['$schema'];
    delete schema['$id'];
  }
  return schemas;
}

const TRACE_HEADERS = {
  'X-Request-Id': { description: "The caller's X-Request-Id, or one the gateway made", schema: { type: 'string' } },
};

/** IETF draft-ietf-httpapi-ratelimit-headers-08, as the gateway sends them while rate limiting is on (RATE_LIMIT_MAX > 0). */
export const RATE_LIMIT_HEADERS = {
  RateLimit: {
    description: "This client's window: r = requests remaining, t = seconds until it resets",
    schema: { type: 'string' },
    example: '"600-in-1min"; r=599; t=60',
  },
  'RateLimit-Policy': {
    description: 'The policy: q = requests allowed per window of w seconds',
    schema: { type: 'string' },
    example: '"600-in-1min"; q=600; w=60',
  },
};

/** /openapi.json and /v1/schema change only with a deployment: revalidate with If-None-Match, 304 when current. */
const REVALIDATION_HEADERS = {
  ETag: { description: "The document's version; send it back as If-None-Match", schema: { type: 'string' } },
  'Cache-Control': { description: 'private, no-cache: keep a copy, revalidate before use', schema: { type: 'string' } },
};

const RETRY_AFTER = {
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer', minimum: 0, maximum: 86400 },
    example: 30,
  },
};

/** Response headers by status: Retry-After where the gateway sends it, RateLimit where the limiter does. */
function problemHeaders(status: string, limited: boolean): Record<string, unknown> {
  return {
    ...TRACE_HEADERS,
    ...(status === '429' || status === '503' ? RETRY_AFTER : {}),
    ...(limited ? RATE_LIMIT_HEADERS : {}),
  };
}

/** A problem response with one example per kind it can be, from the code that makes the real bodies. */
function problemResponse(
  examples: Record<ProblemKind, Problem>,
  status: string,
  description: string,
  kinds: ProblemKind[],
  limited = false,
) {
  return {
    description,
    headers: problemHeaders(status, limited),
    content: {
      'application/problem+json': {
        schema: { $ref: '#/components/schemas/Problem' },
        examples: Object.fromEntries(
          kinds.map((kind) => [kind, { summary: CONTRACT.problems[kind].title, value: examples[kind] }]),
        ),
      },
    },
  };
}

export type OpenApiDocument = Record<string, unknown> & {
  paths: Record<string, unknown>;
  components: {
    schemas: Record<string, unknown>;
    securitySchemes: Record<string, unknown>;
    examples: Record<string, unknown>;
  };
};

export function buildOpenApi(validators: Validators): OpenApiDocument {
  const { schema } = validators;
  const staticRegistry = z.registry<{ id?: string }>();
  staticRegistry.add(ProblemSchema, { id: 'Problem' });
  staticRegistry.add(HealthSchema, { id: 'Health' });
  staticRegistry.add(PublicModelSchema, { id: 'ModelSchema' });

  const schemas = {
    ...componentSchemas(validators.registry, validators.jsonSchema),
    ...componentSchemas(staticRegistry),
  };
  const secured = [{ ApiKey: [] }, { BearerKey: [] }];
  const examples = problemExamples(validators);
  const problem = (status: string, description: string, kinds: ProblemKind[], limited = false) =>
    problemResponse(examples, status, description, kinds, limited);
  const health = (status: string) => ({
    'application/json': {
      schema: { $ref: '#/components/schemas/Health' },
      example: { status, model: { name: schema.model.name, version: schema.model.version } },
    },
  });

  return {
    openapi: '3.1.0',
    info: {
      title: `${schema.model.name} prediction gateway`,
      version: schema.model.version,
      description:
        `Validates prediction requests against the feature schema of model ${schema.model.name} ` +
        `(version ${schema.model.version}) and forwards them to its Elastic Beanstalk service. ` +
        'Every error is RFC 9457 application/problem+json; errors never echo submitted values.',
      // The npm package `make gateway-client` packs for this project (the docs page's client snippet names it).
      'x-client-package': clientPackageName(schema.model.name),
    },
    // Relative: the paths are under whatever address serves this document (the gateway's own).
    servers: [{ url: '/', description: 'This gateway' }],
    paths: {
      '/v1/predict': {
        post: {
          operationId: 'predict',
          summary: `Predict ${schema.target.name} for 1 to ${schema.limits.maxRows} rows`,
          security: secured,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { $ref: '#/components/schemas/PredictRequest' },
                examples: {
                  valid: {
                    summary: 'One row',
                    value: { instances: (validators.registry.get(validators.row)?.examples ?? []).slice(0, 1) },
                  },
                  invalid: {
                    summary: 'Two rows with mistakes (answered by the 422 example)',
                    value: invalidExampleBody(schema),
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'One prediction per row, in request order',
              headers: {
                ...TRACE_HEADERS,
                'X-Model-Version': { description: 'Version of the model that answered', schema: { type: 'string' } },
                ...RATE_LIMIT_HEADERS,
              },
              content: {
                'application/json': {
                  schema: { $ref: '#/components/schemas/PredictResponse' },
                  example: answerExample(schema),
                },
              },
            },
            '400': problem(
              '400',
              `The body is not valid UTF-8 JSON, nests arrays and objects more than ${CONTRACT.maxNestingDepth} levels, does not decompress, or arrived incomplete (malformed-json)`,
              ['malformed-json'],
              true,
            ),
            '401': problem('401', 'No API key, or an unknown one (unauthorized)', ['unauthorized']),
            '413': problem(
              '413',
              `The body, decompressed, is larger than ${schema.limits.maxBodyBytes} bytes, or larger than any valid request for this model: more than ${schema.limits.maxRows} rows of its features hold (body-too-large)`,
              ['body-too-large'],
              true,
            ),
            '415': problem(
              '415',
              'The Content-Type is not application/json (UTF-8), or the Content-Encoding is not gzip, deflate or identity (unsupported-media-type)',
              ['unsupported-media-type'],
              true,
            ),
            '422': problem(
              '422',
              'The JSON does not match the feature schema; one errors[] entry per problem (validation-error)',
              ['validation-error'],
              true,
            ),
            '429': problem(
              '429',
              'Rate limit exhausted; see Retry-After and RateLimit (rate-limited)',
              ['rate-limited'],
              true,
            ),
            '500': problem('500', 'A fault in the gateway (internal-error)', ['internal-error'], true),
            '502': problem(
              '502',
              'The prediction service failed or answered outside the contract (upstream-error)',
              ['upstream-error'],
              true,
            ),
            '503': problem(
              '503',
              'The prediction service is unavailable or the breaker is open; see Retry-After (upstream-unavailable)',
              ['upstream-unavailable'],
              true,
            ),
            '504': problem(
              '504',
              'The prediction service did not answer in time (upstream-timeout)',
              ['upstream-timeout'],
              true,
            ),
          },
        },
      },
      '/v1/schema': {
        get: {
          operationId: 'getSchema',
          summary:
            "What the model accepts and answers: its features, target, limits and version (schema.json's public part)",
          security: secured,
          responses: {
            '200': {
              description: 'The schema',
              headers: { ...TRACE_HEADERS, ...REVALIDATION_HEADERS, ...RATE_LIMIT_HEADERS },
              content: {
                'application/json': {
                  schema: { $ref: '#/components/schemas/ModelSchema' },
                  example: JSON.parse(JSON.stringify(publicSchema(schema))),
                },
              },
            },
            '304': {
              description: "Not modified: the caller's copy (If-None-Match) is current",
              headers: REVALIDATION_HEADERS,
            },
            '401': problem('401', 'No API key, or an unknown one', ['unauthorized']),
            '429': problem('429', 'Rate limit exhausted (rate-limited)', ['rate-limited'], true),
          },
        },
      },
      '/health': {
        get: {
          operationId: 'health',
          summary: "The gateway process is up (the same answer as /health/live, on the Flask service's health path)",
          security: [],
          responses: { '200': { description: 'Alive', headers: TRACE_HEADERS, content: health('ok') } },
        },
      },
      '/health/live': {
        get: {
          operationId: 'live',
          summary: 'The gateway process is up',
          security: [],
          responses: { '200': { description: 'Alive', headers: TRACE_HEADERS, content: health('ok') } },
        },
      },
      '/health/ready': {
        get: {
          operationId: 'ready',
          summary: "The upstream is healthy and serves the model version this gateway's schema names",
          security: [],
          responses: {
            '200': { description: 'Ready', headers: TRACE_HEADERS, content: health('ready') },
            '503': problem('503', 'Not ready; detail says why (not-ready)', ['not-ready']),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          security: [],
          responses: {
            '200': { description: 'OpenAPI 3.1', headers: REVALIDATION_HEADERS, content: { 'application/json': {} } },
            '304': {
              description: "Not modified: the caller's copy (If-None-Match) is current",
              headers: REVALIDATION_HEADERS,
            },
          },
        },
      },
      '/docs': {
        get: {
          operationId: 'docs',
          summary: 'Human documentation with a try-it form',
          security: [],
          responses: { '200': { description: 'HTML', content: { 'text/html': {} } } },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          security: secured,
          responses: {
            '200': { description: 'Prometheus text format', content: { 'text/plain': {} } },
            '401': problem('401', 'No API key, or an unknown one', ['unauthorized']),
          },
        },
      },
    },
    components: {
      schemas,
      // The error catalogue: one example of every problem the gateway answers with (404 and 405 belong to no
      // operation), for mock servers, fixtures and the docs page.
      examples: Object.fromEntries(
        PROBLEM_KINDS.map((kind) => [
          `problem-${kind}`,
          {
            summary: `${CONTRACT.problems[kind].status} ${kind}: ${CONTRACT.problems[kind].title}`,
            value: examples[kind],
          },
        ]),
      ),
      securitySchemes: {
        ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        BearerKey: { type: 'http', scheme: 'bearer', description: 'The same API key as a bearer token' },
      },
    },
  };
}
