import { type ArgumentMetadata, type PipeTransform, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { EngineError } from '@anchorflow/engine';
import { ApiError, type RequestProblem } from './api-error.js';

/** Flattens class-validator errors into `{path, message}` problems (every one of them). */
export function toProblems(errors: ValidationError[], prefix = ''): RequestProblem[] {
  const out: RequestProblem[] = [];
  for (const e of errors) {
    const path = prefix ? (/^\d+$/.test(e.property) ? `${prefix}[${e.property}]` : `${prefix}.${e.property}`) : e.property;
    for (const [name, message] of Object.entries(e.constraints ?? {})) {
      out.push({ path, message: name === 'whitelistValidation' ? `unknown property ${path}` : message });
    }
    if (e.children?.length) out.push(...toProblems(e.children, path));
  }
  return out;
}

export function invalidRequest(problems: RequestProblem[]): ApiError {
  return new ApiError(400, 'INVALID_REQUEST', `request is invalid: ${problems.map((p) => p.message).join('; ')}`, problems);
}

/** The global pipe: DTO classes are validated strictly (unknown keys rejected) and every problem is listed. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: false,
    stopAtFirstError: false,
    exceptionFactory: (errors) => invalidRequest(toProblems(errors as ValidationError[])),
  });
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else cannot exist, so it is a 404 rather than a database error. */
export class ParseIdPipe implements PipeTransform<string, string> {
  constructor(private readonly what = 'resource') {}

  transform(value: string, _metadata?: ArgumentMetadata): string {
    if (typeof value !== 'string' || !UUID_RE.test(value)) {
      throw new EngineError('NOT_FOUND', `${this.what} ${JSON.stringify(String(value).slice(0, 100))} not found (ids are UUIDs)`);
    }
    return value.toLowerCase();
  }
}
