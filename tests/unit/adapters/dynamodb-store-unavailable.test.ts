import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbLedgerStore } from '../../../lib/adapters/dynamodb/dynamodb-ledger-store';
import { StoreUnavailableError } from '../../../lib/errors';

type Script = () => unknown;

/**
 * A real SDK client whose HTTP layer is scripted: each request gets the next outcome, a thrown
 * network error or a DynamoDB error response, so the SDK's own deserialisation and classification
 * run as they would against the service. One attempt: no retries, no backoff.
 */
function scriptedStore(outcome: Script) {
  const requests: string[] = [];
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { headers: Record<string, string> }) => {
        requests.push(request.headers['x-amz-target'] ?? '');
        return { response: outcome() };
      },
    },
  });
  return { store: new DynamoDbLedgerStore({ client, tableName: 'ledger-unit' }), requests };
}

function errorResponse(status: number, type: string) {
  return () => ({
    statusCode: status,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'r-1' },
    body: Readable.from([
      Buffer.from(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: type })),
    ]),
  });
}

function networkError(code: string, name = 'Error') {
  return () => {
    const error = Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
    error.name = name;
    throw error;
  };
}

async function failure(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error('the call succeeded');
}

describe('DynamoDbLedgerStore when DynamoDB cannot answer', () => {
  it.each([
    ['connection refused', networkError('ECONNREFUSED'), 'ECONNREFUSED'],
    ['connection reset', networkError('ECONNRESET'), 'ECONNRESET'],
    ['a timeout', networkError('ETIMEDOUT', 'TimeoutError'), 'TimeoutError'],
    [
      'throttling',
      errorResponse(400, 'ProvisionedThroughputExceededException'),
      'ProvisionedThroughputExceededException',
    ],
    ['a request limit', errorResponse(400, 'ThrottlingException'), 'ThrottlingException'],
    ['a 500', errorResponse(500, 'InternalServerError'), 'InternalServerError'],
    ['a 503', errorResponse(503, 'ServiceUnavailable'), 'ServiceUnavailable'],
  ])('reports %s as StoreUnavailableError with the cause', async (_name, outcome, cause) => {
    const { store } = scriptedStore(outcome);
    const error = await failure(store.readHead());
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/ledger store \(DynamoDB table ledger-unit\) is unavailable/);
    const original = (error as Error).cause as Error & { code?: string };
    expect([original.name, original.code]).toContain(cause);
  });

  it('maps paginated reads (Scan) too', async () => {
    const { store, requests } = scriptedStore(errorResponse(400, 'ProvisionedThroughputExceededException'));
    // Without a lease index, expired leases are found with a Scan.
    expect(await failure(store.listExpiredLeases(Date.now(), 10))).toBeInstanceOf(StoreUnavailableError);
    expect(requests).toEqual(['DynamoDB_20120810.Scan']);
    // Every reservation reads HEAD first, for the VM directory (docs/ledger-format.md 7.1); the Scan
    // is only for a table without one.
    requests.length = 0;
    expect(await failure(store.getReservations())).toBeInstanceOf(StoreUnavailableError);
    expect(requests).toEqual(['DynamoDB_20120810.GetItem']);
  });

  it('maps batched reads', async () => {
    const { store, requests } = scriptedStore(networkError('ECONNREFUSED'));
    expect(await failure(store.getReservations(['vm-1']))).toBeInstanceOf(StoreUnavailableError);
    expect(requests).toEqual(['DynamoDB_20120810.BatchGetItem']);
  });

  it.each([
    ['a missing table', errorResponse(400, 'ResourceNotFoundException'), 'ResourceNotFoundException'],
    ['access denied', errorResponse(400, 'AccessDeniedException'), 'AccessDeniedException'],
    ['a validation error', errorResponse(400, 'ValidationException'), 'ValidationException'],
  ])('leaves %s as the SDK raised it: retrying would not help', async (_name, outcome, name) => {
    const { store } = scriptedStore(outcome);
    const error = await failure(store.readHead());
    expect(error).not.toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).name).toBe(name);
  });
});
