import type { APIGatewayProxyResult } from 'aws-lambda';
import { ValidationError } from '../../errors';
import type { ErrorBody } from '../../schemas/api';
import { errorBody } from '../../schemas/http';

const HEADERS = { 'content-type': 'application/json' } as const;

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { ...HEADERS }, body: JSON.stringify(body) };
}

export function problem(statusCode: number, error: string, message: string): APIGatewayProxyResult {
  return json(statusCode, { error, message } satisfies ErrorBody);
}

/** 400 naming every offending field, in the same shape the local runtime returns. */
export function invalid(err: ValidationError): APIGatewayProxyResult {
  return json(400, errorBody(err));
}

/** Parses a JSON request body; a body that is not JSON is a validation error on the body itself. */
export function parseJsonBody(body: string | null, isBase64Encoded: boolean): unknown {
  if (body === null || body === '') {
    throw new ValidationError([{ field: '', message: 'request body is required' }], 'invalid request body');
  }
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError(
      [{ field: '', message: 'request body is not valid JSON' }],
      'invalid request body',
    );
  }
}
