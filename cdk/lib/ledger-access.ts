import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  ACCEPTED_PREFIX,
  HEAD_KEY,
  LEASE_INDEX_NAME,
  TILE_PREFIX,
  VM_DIRECTORY_PREFIX,
  VM_PREFIX,
  WRITER_KEYS,
} from '../../lib/adapters/dynamodb/keys';

/** Reads by key (TransactGetItems is authorised as GetItem on each item): what every writer needs. */
const KEY_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem'];

/**
 * The listing reads a function may need beyond reads by key. Granted only where the code makes them
 * (the recorded calls of the deployed functions are evaluated against the roles,
 * tests/aws/e2e-stack.test.ts, and the IAM simulation's deny matrix checks the rest):
 * - `scan`: the API's ledger and fleet listings (LedgerReader.getReservations without VM ids reads
 *   every VM# item with a filtered Scan);
 * - `leaseIndex`: the expiry function's Query of the sparse lease index (listExpiredLeases). The
 *   stack always has the index, so nothing needs the store's Scan fallback for it.
 */
export interface ListingReads {
  readonly scan?: boolean;
  readonly leaseIndex?: boolean;
}

/** `HEAD` is a whole key; the others are prefixes. */
export const WRITER_LEADING_KEYS = WRITER_KEYS.map((k) => (k === HEAD_KEY ? k : `${k}*`));
/**
 * An append Puts HEAD, BLOCK#, TX# and TASK# items and Updates VM# items (reservations in place,
 * capacity in the condition) and TILE# items (hashes appended to a Merkle tile), inside one
 * TransactWriteItems, which IAM authorises per item as these actions. TILE# items are also Put whole:
 * the genesis tile when a writer starts the ledger, and every tile when a writer builds the Merkle
 * state of a table written before it existed (the recorded calls of the deployed scheduler showed
 * the genesis Put denied: tests/aws/e2e-stack.test.ts). VMDIR# pages (the VM directory) are only ever
 * ADDed to with UpdateItem; HEAD is Put, also when a writer adds the directory to a table's HEAD. So
 * UpdateItem is granted on VM#, TILE# and VMDIR# only, PutItem on every writer key but VM# and VMDIR#. ConditionCheckItem is never used;
 * DeleteItem is absent on purpose: nothing in the ledger is ever deleted (and the table's resource
 * policy denies it on chain items to everyone).
 */
export const WRITER_UPDATE_LEADING_KEYS = [`${VM_PREFIX}*`, `${TILE_PREFIX}*`, `${VM_DIRECTORY_PREFIX}*`];
export const WRITER_PUT_LEADING_KEYS = WRITER_LEADING_KEYS.filter(
  (k) => k !== `${VM_PREFIX}*` && k !== `${VM_DIRECTORY_PREFIX}*`,
);

export function grantLedgerRead(grantee: IGrantable, table: ITable, listing: ListingReads = {}): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'LedgerRead',
      effect: Effect.ALLOW,
      actions: [...KEY_READ_ACTIONS, ...(listing.scan ? ['dynamodb:Scan'] : [])],
      resources: [table.tableArn],
    }),
  );
  if (listing.leaseIndex) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'LeaseIndexQuery',
        effect: Effect.ALLOW,
        actions: ['dynamodb:Query'],
        resources: [`${table.tableArn}/index/${LEASE_INDEX_NAME}`],
      }),
    );
  }
}

/**
 * Reads by key only: for functions that never list (the verify function reads HEAD, blocks and
 * digests; the fleet monitor batch-gets the VM# items of the instances it listed).
 */
export function grantLedgerKeyRead(grantee: IGrantable, table: ITable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'LedgerKeyRead',
      effect: Effect.ALLOW,
      actions: KEY_READ_ACTIONS,
      resources: [table.tableArn],
    }),
  );
}

/**
 * The fleet reads of lib/adapters/aws (instances by tag, instance types, CloudWatch usage). None of
 * these actions supports resource-level permissions, hence '*'.
 */
export function grantFleetRead(grantee: IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'FleetRead',
      effect: Effect.ALLOW,
      actions: ['ec2:DescribeInstances', 'ec2:DescribeInstanceTypes', 'cloudwatch:GetMetricData'],
      resources: ['*'],
    }),
  );
}

/** Read, plus item writes limited by dynamodb:LeadingKeys to the prefixes the writer owns. */
export function grantLedgerWrite(grantee: IGrantable, table: ITable, listing: ListingReads = {}): void {
  grantLedgerRead(grantee, table, listing);
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'LedgerAppend',
      effect: Effect.ALLOW,
      actions: ['dynamodb:PutItem'],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': WRITER_PUT_LEADING_KEYS } },
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'LedgerReserve',
      effect: Effect.ALLOW,
      actions: ['dynamodb:UpdateItem'],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': WRITER_UPDATE_LEADING_KEYS } },
    }),
  );
}

/**
 * The enqueue function's acceptance records (ACCEPTED#<task_id>, lib/adapters/dynamodb/task-acceptances.ts):
 * claimed with a conditional PutItem, read back with GetItem when the claim fails, marked queued and
 * released (never deleted) with PutItem. Nothing else of the table.
 */
export function grantAcceptanceWrite(grantee: IGrantable, table: ITable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'TaskAcceptances',
      effect: Effect.ALLOW,
      actions: ['dynamodb:PutItem', 'dynamodb:GetItem'],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${ACCEPTED_PREFIX}*`] } },
    }),
  );
}

/**
 * A writer of named (Sid) least-privilege statements on `fn`'s role, for the grants a construct states
 * by hand: `allow(sid, actions, resources, conditions?)`.
 */
export function statementsOn(fn: { addToRolePolicy(statement: PolicyStatement): void }) {
  return (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>): void =>
    fn.addToRolePolicy(new PolicyStatement({ sid, effect: Effect.ALLOW, actions, resources, conditions }));
}
