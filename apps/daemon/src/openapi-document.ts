import { STATUS_CODES } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { RATE_LIMIT } from './common/rate-limit.js';
import { collectRoutes, type RouteEntry } from './security/route-table.js';
import { API_ERRORS } from './openapi/api-errors.decorator.js';
import { ErrorDetailSchema, ErrorEnvelopeSchema } from './openapi/response-schemas.js';

export const OPENAPI_VERSION_TAG = '1';

type PathItemObject = OpenAPIObject['paths'][string];
type OperationObject = NonNullable<PathItemObject['get']>;
type ParameterObject = Extract<NonNullable<OperationObject['parameters']>[number], { in: string }>;
type ResponseObject = Extract<OperationObject['responses'][string], { description: string }>;

const ERROR_CODES: Record<number, string> = {
  400: 'INVALID_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL',
  503: 'SERVICE_UNAVAILABLE',
};

const ENVELOPE_REF = { $ref: '#/components/schemas/ErrorEnvelopeSchema' };

function errorResponse(status: number, when: string): ResponseObject {
  const code = ERROR_CODES[status] ?? STATUS_CODES[status]?.toUpperCase().replace(/\W+/g, '_') ?? 'ERROR';
  return {
    description: `${STATUS_CODES[status] ?? 'Error'}: ${when}`,
    content: { 'application/json': { schema: ENVELOPE_REF, example: { error: { code, message: when } } } },
  };
}

/**
 * Every answer an operation can give that is not its success: from its route metadata (who may call it,
 * rate limit, parameters, body) plus what the handler declares with @ApiErrors.
 */
function describeErrors(route: RouteEntry, op: OperationObject, declared: Record<number, string>, rateLimited: boolean): Record<number, string> {
  const errors: Record<number, string> = {};
  const params = (op.parameters ?? []) as ParameterObject[];
  const pathParams = params.filter((p) => p.in === 'path');
  errors[400] = pathParams.length > 0 || params.some((p) => p.in === 'query') || op.requestBody
    ? 'a parameter or the body is malformed or invalid (details lists each problem with its path)'
    // the body parsers run before routing: even a GET is refused when it carries a broken JSON body
    : 'the request carries a body that is not valid JSON';
  if (route.access?.kind !== 'public') {
    errors[401] = 'no credential, or an unknown, revoked or expired one';
    errors[403] = route.access?.kind === 'permission' ? `the credential's role lacks the permission ${route.access.permission}` : 'this route wants an API key, not an editor token';
  }
  if (pathParams.length > 0) errors[404] = `no such ${pathParams.map((p) => p.name).join('/')}`;
  if (op.requestBody) errors[413] = 'the body is larger than http.bodyLimit';
  if (rateLimited) errors[429] = 'too many requests from this client; retry after the Retry-After header';
  errors[500] = 'an unexpected failure (logged with the request id)';
  errors[503] = 'the daemon is shutting down or its database is unavailable; retry';
  return { ...errors, ...declared };
}

const HOOK_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function hooksPathItem(): PathItemObject {
  const item: PathItemObject = {};
  const path: ParameterObject = {
    name: 'path', in: 'path', required: true, schema: { type: 'string' }, example: 'invoices/approved',
    description: 'the path of a core.trigger.webhook node in an active workflow (may contain slashes)',
  };
  for (const method of HOOK_METHODS) {
    item[method] = {
      operationId: `HooksController_${method}`,
      tags: ['hooks'],
      summary: `Webhook trigger (${method.toUpperCase()}): starts the active workflow listening on this path`,
      description:
        'Outside /api/v1. Who may call is the trigger\'s `exposure`: `public` anyone; `signed` only requests with a valid X-Anchorflow-Signature ' +
        '(t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>, at most 5 minutes old); `key` only an API key or token allowed executions:run. ' +
        'A refused request starts nothing. With `respond: immediately` the answer is 202 ' +
        '{executionId}; with `respond: lastNode` it is 200 with the output of the last node, or 500 if the execution failed. The header ' +
        'X-Anchorflow-Execution-Id names the execution either way.',
      security: [],
      parameters: [path],
      ...(method === 'get' || method === 'delete' ? {} : {
        requestBody: {
          required: false,
          description: 'any JSON, form or text body: the execution input (or part of it, with include: request)',
          content: { 'application/json': { schema: { type: 'object', additionalProperties: true }, example: { invoiceId: 'INV-1042', amount: 1200 } } },
        },
      }),
      responses: {
        200: {
          description: 'respond: lastNode: the output of the last node',
          headers: { 'X-Anchorflow-Execution-Id': { description: 'the execution started', schema: { type: 'string', format: 'uuid' } } },
          content: { 'application/json': { schema: {}, example: { ok: true } } },
        },
        202: {
          description: 'the execution started (respond: immediately, or lastNode took longer than hooks.responseTimeoutMs)',
          headers: { 'X-Anchorflow-Execution-Id': { description: 'the execution started', schema: { type: 'string', format: 'uuid' } } },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/WebhookAcceptedSchema' } } },
        },
        400: errorResponse(400, 'the body is not valid JSON (or nested deeper than http.maxJsonDepth), or the signature is malformed'),
        401: errorResponse(401, 'exposure signed: the signature is missing, wrong or older than 5 minutes (SIGNATURE_INVALID); exposure key: no valid API key or token (UNAUTHORIZED)'),
        403: errorResponse(403, "exposure key: the key's role lacks executions:run"),
        404: errorResponse(404, 'no active workflow listens on this path'),
        405: errorResponse(405, 'a workflow listens on this path, but not for this method'),
        413: errorResponse(413, "the body is larger than the trigger's maxBodyBytes or http.bodyLimit"),
        429: errorResponse(429, "too many calls to this trigger (its rateLimitPerMinute) or from this client (security.rateLimit.hooks); see Retry-After"),
        500: errorResponse(500, 'respond: lastNode and the execution failed or was cancelled (code EXECUTION_FAILED / EXECUTION_CANCELLED, details.executionId)'),
        503: errorResponse(503, 'the daemon is shutting down or its database is unavailable; retry'),
      },
    };
  }
  return item;
}

function metricsPathItem(): PathItemObject {
  return {
    get: {
      operationId: 'MetricsController_scrape',
      tags: ['metrics'],
      summary: 'Prometheus metrics (text exposition format 0.0.4)',
      description:
        'Outside /api/v1, where Prometheus looks by default. Needs no API key; it wants `Authorization: Bearer <metrics.token>` ' +
        '(Prometheus `authorization: { credentials: … }`), and with no token set answers only when metrics.public is true. metrics.enabled: false answers 404. README "Monitoring" lists the families.',
      security: [{}, { 'metrics-token': [] }],
      responses: {
        200: {
          description: 'the exposition',
          content: { 'text/plain': { schema: { type: 'string' }, example: '# HELP anchorflow_executions_started_total Executions started\n# TYPE anchorflow_executions_started_total counter\nanchorflow_executions_started_total 42\n' } },
        },
        401: errorResponse(401, 'the request does not carry metrics.token (or none is set and metrics.public is false)'),
        404: errorResponse(404, 'metrics are disabled (metrics.enabled: false)'),
        500: errorResponse(500, 'an unexpected failure (logged with the request id)'),
        503: errorResponse(503, 'the daemon is shutting down'),
      },
    },
  };
}

/** The document builder settings: title, servers, license, contact, security schemes. */
export function documentConfig(): Omit<OpenAPIObject, 'paths'> {
  return new DocumentBuilder()
    .setTitle('Anchorflow')
    .setDescription(
      'Durable workflow engine: workflows, executions, node types, plugins, credentials, audit. Every error answer is ' +
        '`{ "error": { "code", "message", "details" } }`; every answer carries an `X-Request-Id` header, which the daemon\'s log lines about that request carry too.',
    )
    .setVersion(OPENAPI_VERSION_TAG)
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .setContact('Anchorflow maintainers', 'https://github.com/anchorflow/anchorflow', 'maintainers@anchorflow.dev')
    .addServer('{scheme}://{host}:{port}', 'a daemon (config http.host / http.port)', {
      scheme: { default: 'http', enum: ['http', 'https'], description: 'https behind a TLS-terminating proxy' },
      host: { default: '127.0.0.1', description: 'where the daemon (or its proxy) listens' },
      port: { default: '8080', description: 'config http.port' },
    })
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'afk_… API key or editor token', description: 'an API key (afk_…) or an editor token from POST /api/v1/auth/token' })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'an API key (afk_…) in its own header' }, 'api-key')
    .addSecurity('metrics-token', { type: 'http', scheme: 'bearer', bearerFormat: 'opaque token (metrics.token)', description: 'only GET /metrics: the configured metrics.token' })
    .addTag('hooks', 'Webhook triggers (outside /api/v1)')
    .addTag('metrics', 'Prometheus scrape endpoint (outside /api/v1)')
    .build();
}

/**
 * The OpenAPI document of this app: @nestjs/swagger's scan of the controllers, plus what decorators
 * cannot say per route — error answers from each route's access/parameters/body, `security: []` on
 * public routes, and the hand-described /hooks/* and /metrics (their controllers are excluded from the scan
 * because a wildcard ALL route and a text/plain scrape do not map onto decorators).
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(app, documentConfig(), {
    extraModels: [ErrorEnvelopeSchema, ErrorDetailSchema],
  });
  const schemas = (document.components!.schemas ??= {});
  schemas['WebhookAcceptedSchema'] = {
    type: 'object', required: ['executionId'],
    properties: { executionId: { type: 'string', format: 'uuid' } },
  };
  const byOperationId = new Map<string, OperationObject>();
  for (const item of Object.values(document.paths)) {
    for (const op of Object.values(item as Record<string, OperationObject>)) if (op?.operationId) byOperationId.set(op.operationId, op);
  }
  for (const route of collectRoutes(app)) {
    const op = byOperationId.get(`${route.controller}_${route.handler}`);
    if (!op) continue;
    const declared = (Reflect.getMetadata(API_ERRORS, route.target) as Record<number, string> | undefined) ?? {};
    const rateLimited = Reflect.getMetadata(RATE_LIMIT, route.target) !== undefined || Reflect.getMetadata(RATE_LIMIT, route.controllerType) !== undefined;
    if (route.access?.kind === 'public') op.security = [];
    // every error answer goes through ApiExceptionFilter, so its body is the envelope whatever a library decorator says
    for (const [status, when] of Object.entries(describeErrors(route, op, declared, rateLimited))) op.responses[status] = errorResponse(Number(status), when);
  }
  document.paths['/hooks/{path}'] = hooksPathItem();
  document.paths['/metrics'] = metricsPathItem();
  return document;
}
