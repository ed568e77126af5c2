import { z } from 'zod';
import { CONTRACT, ERROR_CODES, PROBLEM_KINDS } from './contract.js';
import { PublicModelSchema } from './schema/load.js';
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

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const TRACE_HEADERS = {
  'X-Request-Id': { description: "The caller's X-Request-Id, or one the gateway made", schema: { type: 'string' } },
};

export type OpenApiDocument = Record<string, unknown> & {
  paths: Record<string, unknown>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
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

  return {
    openapi: '3.1.0',
    info: {
      title: `${schema.model.name} prediction gateway`,
      version: schema.model.version,
      description:
        `Validates prediction requests against the feature schema of model ${schema.model.name} ` +
        `(version ${schema.model.version}) and forwards them to its Elastic Beanstalk service. ` +
        'Every error is RFC 9457 application/problem+json; errors never echo submitted values.',
    },
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
                example: { instances: (validators.registry.get(validators.row)?.examples ?? []).slice(0, 1) },
              },
            },
          },
          responses: {
            '200': {
              description: 'One prediction per row, in request order',
              headers: {
                ...TRACE_HEADERS,
                'X-Model-Version': { description: 'Version of the model that answered', schema: { type: 'string' } },
              },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/PredictResponse' } } },
            },
            '400': problem(
              `The body is not valid UTF-8 JSON, nests arrays and objects more than ${CONTRACT.maxNestingDepth} levels, does not decompress, or arrived incomplete (malformed-json)`,
            ),
            '401': problem('No API key, or an unknown one (unauthorized)'),
            '413': problem(
              `The body, decompressed, is larger than ${schema.limits.maxBodyBytes} bytes (body-too-large)`,
            ),
            '415': problem(
              'The Content-Type is not application/json (UTF-8), or the Content-Encoding is not gzip, deflate or identity (unsupported-media-type)',
            ),
            '422': problem(
              'The JSON does not match the feature schema; one errors[] entry per problem (validation-error)',
            ),
            '429': problem('Rate limit exhausted; see Retry-After and RateLimit (rate-limited)'),
            '502': problem('The prediction service failed or answered outside the contract (upstream-error)'),
            '503': problem(
              'The prediction service is unavailable or the breaker is open; see Retry-After (upstream-unavailable)',
            ),
            '504': problem('The prediction service did not answer in time (upstream-timeout)'),
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
              content: { 'application/json': { schema: { $ref: '#/components/schemas/ModelSchema' } } },
            },
            '401': problem('No API key, or an unknown one'),
          },
        },
      },
      '/health': {
        get: {
          operationId: 'health',
          summary: "The gateway process is up (the same answer as /health/live, on the Flask service's health path)",
          security: [],
          responses: {
            '200': {
              description: 'Alive',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } },
            },
          },
        },
      },
      '/health/live': {
        get: {
          operationId: 'live',
          summary: 'The gateway process is up',
          security: [],
          responses: {
            '200': {
              description: 'Alive',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } },
            },
          },
        },
      },
      '/health/ready': {
        get: {
          operationId: 'ready',
          summary: "The upstream is healthy and serves the model version this gateway's schema names",
          security: [],
          responses: {
            '200': {
              description: 'Ready',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } },
            },
            '503': problem('Not ready; detail says why (not-ready)'),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } } },
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
            '401': problem('No API key, or an unknown one'),
          },
        },
      },
    },
    components: {
      schemas,
      securitySchemes: {
        ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        BearerKey: { type: 'http', scheme: 'bearer', description: 'The same API key as a bearer token' },
      },
    },
  };
}
