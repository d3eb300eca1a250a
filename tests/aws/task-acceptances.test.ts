import { afterAll } from 'vitest';
import { DynamoDbTaskAcceptances } from '../../lib/adapters/dynamodb/task-acceptances';
import { taskAcceptancesContract } from '../contract/task-acceptances.case';
import { dynamoDbClient } from './helpers/clients';
import { createLedgerTable } from './helpers/ledger-table';

const client = dynamoDbClient();
afterAll(() => client.destroy());

taskAcceptancesContract(
  'dynamodb',
  async () => {
    const table = await createLedgerTable(client);
    return {
      acceptances: new DynamoDbTaskAcceptances({ client, tableName: table.tableName }),
      cleanup: () => table.drop(),
    };
  },
  { timeout: 120_000 },
);
