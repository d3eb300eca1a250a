import * as z from 'zod';
import { errorBodySchema } from './responses';
import { apiRoutes, type ResponseSpec, type RouteContext, type RouteSpec, type Runtime } from './routes';

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route table (lib/schemas/routes.ts)
 * with zod's own JSON Schema output, so the document states what the server validates and answers
 * with and cannot drift from it. Request schemas are documented as input (what a client may send),
 * response schemas as output.
 */

export interface OpenApiOptions extends RouteContext {
  runtime: Runtime;
  /** Whether the server requires a bearer token on its mutating routes (local runtime). */
  token: boolean;
  /** Largest request body, bytes (413 above it); omitted when the runtime sets no limit of its own. */
  maxBodyBytes?: number;
  /** Drops routes this deployment does not serve (the AWS API without a fleet has no /fleet). */
  serves?: (route: RouteSpec) => boolean;
  /**
   * AWS only: how the gateway authorises every request before routing it (the stack's authMode):
   * SigV4 (iam, the default) or an API key. Declared as the document's security requirement.
   */
  authMode?: 'iam' | 'api-key';
}

/**
 * What API Gateway itself answers with, before any function runs: `{"message": ...}` for a request
 * it refuses (403: not signed or no valid key, and any method or path it has no route for; 429:
 * throttled; 400: a POST /tasks body its model refuses, on AWS, not on the emulator).
 */
const GATEWAY_ERROR = {
  type: 'object',
  properties: { message: { type: 'string' } },
  required: ['message'],
  additionalProperties: false,
};

/** The AWS document's security schemes: SigV4 on the Authorization header, or API Gateway's x-api-key. */
const AWS_SECURITY = {
  iam: {
    sigv4: {
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
      description:
        'AWS Signature Version 4 for execute-api (authMode=iam): the gateway refuses a request that is not signed by an IAM principal allowed execute-api:Invoke with 403',
      'x-amazon-apigateway-authtype': 'awsSigv4',
    },
  },
  'api-key': {
    apiKey: {
      type: 'apiKey',
      in: 'header',
      name: 'x-api-key',
      description:
        "An API key of the stack's usage plan (authMode=api-key); without a valid one the gateway answers 403",
    },
  },
} as const;

/** Seconds the 429 and 503 answers ask a client to wait (runtime/http/errors.ts RETRY_AFTER_S). */
const RETRY_AFTER = {
  'Retry-After': {
    description: 'Seconds to wait before sending the request again',
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
};

const ERROR_REF = { $ref: '#/components/schemas/Error' };

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): object {
  // $schema is the document's (OpenAPI 3.1 is JSON Schema 2020-12), not repeated in every schema.
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

function errorResponse(description: string, headers?: ResponseSpec['headers']): object {
  return {
    description,
    ...(headers ? { headers: headerObjects(headers) } : {}),
    content: { 'application/json': { schema: ERROR_REF } },
  };
}

function headerObjects(headers: NonNullable<ResponseSpec['headers']>): object {
  return Object.fromEntries(
    Object.entries(headers).map(([name, h]) => [name, { description: h.description, schema: h.schema }]),
  );
}

function response(status: number, spec: ResponseSpec, links: object | undefined): object {
  const isError = status >= 400;
  const type = spec.contentType ?? 'application/json';
  const schema = spec.schema ? jsonSchema(spec.schema, 'output') : isError ? ERROR_REF : undefined;
  return {
    description: spec.description,
    ...(spec.headers ? { headers: headerObjects(spec.headers) } : {}),
    content: { [type]: schema ? { schema } : {} },
    ...(links ? { links } : {}),
  };
}

function parameters(route: RouteSpec): object[] {
  const out: object[] = [];
  const add = (where: 'path' | 'query', shape: z.ZodObject | undefined) => {
    if (!shape) return;
    for (const [name, field] of Object.entries(shape.shape)) {
      const optional = (field as z.ZodType).safeParse(undefined).success;
      out.push({
        name,
        in: where,
        required: where === 'path' || !optional,
        schema: jsonSchema(field as z.ZodType, 'input'),
      });
    }
  };
  add('path', route.pathParams);
  add('query', route.query);
  return out;
}

function operation(route: RouteSpec, options: OpenApiOptions): object {
  const responses: Record<string, object> = {};
  const success = Object.keys(route.responses)
    .map(Number)
    .filter((s) => s < 300)
    .sort()[0];
  // Each link sits on the response it reads (LinkSpec.status, by default the first 2xx).
  const linksOn = (status: number): object | undefined => {
    const on = Object.entries(route.links ?? {}).filter(([, link]) => (link.status ?? success) === status);
    return on.length > 0
      ? Object.fromEntries(on.map(([name, { status: _on, ...link }]) => [name, link]))
      : undefined;
  };
  for (const [status, spec] of Object.entries(route.responses)) {
    responses[status] = response(Number(status), spec, linksOn(Number(status)));
  }
  if (route.pathParams || route.query || route.body) {
    responses['400'] ??= errorResponse('Invalid input; `issues` names each field');
  }
  const protectedRoute = route.auth !== undefined && options.runtime === 'local' && options.token;
  if (protectedRoute) {
    responses['401'] = {
      ...errorResponse('Bearer token missing or wrong'),
      headers: {
        'WWW-Authenticate': { description: 'The scheme to use: Bearer', schema: { type: 'string' } },
      },
    };
  }
  if (route.body) {
    if (options.maxBodyBytes !== undefined) {
      responses['413'] = errorResponse(`Body over ${options.maxBodyBytes} bytes; nothing was read`);
    }
    responses['415'] = errorResponse('Body not declared as application/json');
  }
  if (options.runtime === 'aws') {
    const gateway = (description: string) => ({
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/GatewayError' } } },
    });
    responses['403'] = gateway(
      'Refused by API Gateway before any function ran: not authorised (see security)',
    );
    responses['429'] ??= gateway('Throttled by API Gateway (the stage or method limit)');
    if (route.body) {
      responses['400'] = {
        description: "Invalid input; `issues` names each field (or API Gateway's model refused the body)",
        content: {
          'application/json': {
            schema: { anyOf: [ERROR_REF, { $ref: '#/components/schemas/GatewayError' }] },
          },
        },
      };
    }
  }
  // On AWS a 429 is the gateway's throttle (above), whatever the function would say.
  for (const status of (route.refusals ?? []).filter((s) => !(s === 429 && options.runtime === 'aws'))) {
    responses[String(status)] = errorResponse(
      status === 429
        ? 'Queue full, nothing queued; retry after Retry-After seconds'
        : 'Store busy, nothing written; retry after Retry-After seconds',
      RETRY_AFTER,
    );
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(protectedRoute ? { security: [{ bearer: [] }] } : {}),
    ...(route.pathParams || route.query ? { parameters: parameters(route) } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: route.bodyOptional !== true,
            content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

/** The routes of apiRoutes that this runtime (and deployment) serves. */
export function servedRoutes(options: OpenApiOptions): RouteSpec[] {
  return apiRoutes(options).filter(
    (r) => r.servedBy.includes(options.runtime) && (options.serves?.(r) ?? true),
  );
}

/** The document for one runtime: only the routes it serves, only the links between those. */
export function openApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const routes = servedRoutes(options);
  const served = new Set(routes.map((r) => r.operationId));
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) {
    const kept = route.links
      ? Object.fromEntries(Object.entries(route.links).filter(([, link]) => served.has(link.operationId)))
      : undefined;
    const trimmed: RouteSpec = { ...route, ...(kept ? { links: kept } : {}) };
    paths[route.path] ??= {};
    paths[route.path]![route.method] = operation(trimmed, options);
  }
  const aws = options.runtime === 'aws';
  return {
    openapi: '3.1.0',
    info: {
      title: 'blockchain-cloud-scheduler',
      version: '0.1.0',
      description: aws
        ? 'The AWS stack behind API Gateway: the gateway authorises every request (IAM SigV4 or API key) before routing it; POST /tasks is the enqueue function, POST /ledger/verify the verify function, every other route the API function, which answers 405 with `Allow` for another method on a path it serves.'
        : 'The local runtime (bcs start). Reads are open so that anyone can audit; with a token configured, mutating routes and the agent feed need `Authorization: Bearer <token>`. A known path asked with another method is answered 405 with `Allow`.',
    },
    components: {
      ...(!aws && options.token ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : {}),
      ...(aws ? { securitySchemes: AWS_SECURITY[options.authMode ?? 'iam'] } : {}),
      schemas: {
        Error: jsonSchema(errorBodySchema, 'output'),
        ...(aws ? { GatewayError: GATEWAY_ERROR } : {}),
      },
    },
    // On AWS the gateway authorises every request, whatever its route.
    ...(aws ? { security: [{ [options.authMode === 'api-key' ? 'apiKey' : 'sigv4']: [] }] } : {}),
    paths,
  };
}
