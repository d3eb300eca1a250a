import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SignedDigest } from '../../ledger/signed-digest';
import type { SignedDigestLog } from '../../ports/signed-digest-log';
import { DIGEST_PREFIX, HEIGHT_DIGITS, PARTITION_KEY } from './keys';

/** `DIGEST#<height zero-padded>`: the first digest signed at that height, kept for auditors. */
export function signedDigestKey(height: number): string {
  return `${DIGEST_PREFIX}${String(height).padStart(HEIGHT_DIGITS, '0')}`;
}

/** `DIGEST#LATEST`: the highest digest signed so far, what every verification checks the chain against. */
export const LATEST_DIGEST_KEY = `${DIGEST_PREFIX}LATEST`;

/**
 * Signed digests as ledger-table items: `{ pk, height, key_id, signed_digest }`, the digest as its JSON
 * text. Both writes are conditional: a height's item is written once, and LATEST only moves up, so a
 * retried or late run never replaces a newer signature with an older one. Whatever is read back is
 * checked against the key by the caller (an item is only as good as its signature).
 */
export function signedDigestTable(client: DynamoDBClient, tableName: string): SignedDigestLog {
  const documents = DynamoDBDocumentClient.from(client);
  const putIf = async (
    item: Record<string, unknown>,
    condition: string,
    values?: Record<string, unknown>,
  ) => {
    try {
      await documents.send(
        new PutCommand({
          TableName: tableName,
          Item: item,
          ConditionExpression: condition,
          ...(values ? { ExpressionAttributeValues: values } : {}),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  };
  return {
    async latest() {
      const { Item } = await documents.send(
        new GetCommand({
          TableName: tableName,
          Key: { [PARTITION_KEY]: LATEST_DIGEST_KEY },
          ConsistentRead: true,
        }),
      );
      if (Item === undefined) return null;
      // A malformed item is handed on as it is: the caller's signature check reports it.
      try {
        return typeof Item.signed_digest === 'string' ? JSON.parse(Item.signed_digest) : Item;
      } catch {
        return Item;
      }
    },
    async publish(signed: SignedDigest) {
      const attributes = {
        height: signed.height,
        key_id: signed.key_id,
        signed_digest: JSON.stringify(signed),
      };
      await putIf(
        { [PARTITION_KEY]: signedDigestKey(signed.height), ...attributes },
        `attribute_not_exists(${PARTITION_KEY})`,
      );
      await putIf(
        { [PARTITION_KEY]: LATEST_DIGEST_KEY, ...attributes },
        `attribute_not_exists(${PARTITION_KEY}) OR height < :height`,
        { ':height': signed.height },
      );
    },
  };
}
