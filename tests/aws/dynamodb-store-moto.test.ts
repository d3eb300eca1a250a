import { afterAll } from 'vitest';
import { dynamoDbStoreSuite } from './helpers/dynamodb-store-suite';
import { startMoto } from './helpers/moto';

// The DynamoDB store's suites on moto's server, the second emulator (docs/emulator.md lists where the
// two differ). moto runs for this file only, on a free port.
const moto = await startMoto();
afterAll(() => moto.stop());

dynamoDbStoreSuite('dynamodb on moto', moto.client);
