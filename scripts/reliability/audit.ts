import type { Block } from '../../lib/ledger/types';
import { verifyChain } from '../../lib/ledger/verify';
import type { Dimensions, ResourceVector } from '../../lib/model/resources';
import type { Vm } from '../../lib/model/vm';
import type { LedgerStore } from '../../lib/ports/ledger-store';

export interface CapacityBreach {
  height: number;
  vm_id: string;
  dimension: string;
  reserved: number;
  capacity: number;
}

/** What the ledger itself says happened, rebuilt from its blocks alone. */
export interface LedgerAudit {
  height: number;
  blocks: number;
  transactions: number;
  /** verifyChain over every block against the stored head: links, hashes, Merkle roots, heights. */
  chainValid: boolean;
  chainProblem: string | null;
  /** Blocks 0..height each present once, in order: no gap and no second block at a height. */
  heightsContiguous: boolean;
  /** Submitted tasks with no decision (assigned or rejected) in the chain. */
  lost: string[];
  /** Tasks with more than one decision, or more than one completion. */
  recordedTwice: string[];
  /** Transactions about tasks nobody submitted. */
  unknown: string[];
  /** Tasks whose store record disagrees with their last transaction (status, block, transaction id). */
  recordMismatches: string[];
  /** A VM's reservations, replayed from the chain, above its capacity after some block. */
  overCapacity: CapacityBreach[];
  /**
   * Transactions whose vm_state_before.reserved is not what the chain implies at that point: a
   * decision made on a stale view of the VM.
   */
  staleSnapshots: { height: number; task_id: string; vm_id: string }[];
  /** VMs whose final replayed reservation differs from the store's reservation record. */
  reservationMismatches: string[];
  assigned: number;
  rejected: number;
  completed: number;
  failed: number;
  expired: number;
  /** Highest reserved / capacity any VM reached, per dimension. */
  peakUtilisation: Record<string, number>;
}

const PAGE = 500;

/** The reads an audit makes: any LedgerStore, or a view of one a test has tampered with. */
export type AuditedLedger = Pick<LedgerStore, 'readHead' | 'getBlocks' | 'getTasks' | 'getReservations'>;

async function allBlocks(store: AuditedLedger, height: number): Promise<Block[]> {
  const blocks: Block[] = [];
  for (let from = 0; from <= height; from += PAGE) blocks.push(...(await store.getBlocks(from, PAGE)));
  return blocks;
}

const sameVector = (a: ResourceVector, b: ResourceVector, dimensions: Dimensions) =>
  dimensions.every((d) => (a[d] ?? 0) === (b[d] ?? 0));

/**
 * Audits a ledger that `submitted` tasks were scheduled into on `vms`: the chain verifies, every task
 * is decided exactly once, and replaying the reservations transaction by transaction never takes a
 * VM over the capacity the fleet gave it. Reads only through the LedgerStore port, so it audits
 * SQLite and DynamoDB alike.
 */
export async function auditLedger(
  store: AuditedLedger,
  submitted: readonly string[],
  vms: readonly Vm[],
  dimensions: Dimensions,
): Promise<LedgerAudit> {
  const head = await store.readHead();
  const blocks = await allBlocks(store, head.height);
  const verification = await verifyChain(blocks, { expectedHead: head });
  const heightsContiguous = blocks.length === head.height + 1 && blocks.every((b, i) => b.height === i);

  const capacity = new Map(vms.map((vm) => [vm.id, vm.capacity]));
  const reserved = new Map<string, ResourceVector>(vms.map((vm) => [vm.id, zero(dimensions)]));
  const decisions = new Map<string, number>();
  const completions = new Map<string, number>();
  const last = new Map<string, { status: string; height: number; transaction_id: string }>();
  const wanted = new Set(submitted);
  const audit: LedgerAudit = {
    height: head.height,
    blocks: blocks.length,
    transactions: 0,
    chainValid: verification.valid,
    chainProblem: verification.valid ? null : `${verification.problem}: ${verification.detail}`,
    heightsContiguous,
    lost: [],
    recordedTwice: [],
    unknown: [],
    recordMismatches: [],
    overCapacity: [],
    staleSnapshots: [],
    reservationMismatches: [],
    assigned: 0,
    rejected: 0,
    completed: 0,
    failed: 0,
    expired: 0,
    peakUtilisation: Object.fromEntries(dimensions.map((d) => [d, 0])),
  };

  for (const block of blocks.slice(1)) {
    for (const tx of block.transactions) {
      audit.transactions++;
      if (!wanted.has(tx.task_id)) audit.unknown.push(tx.task_id);
      last.set(tx.task_id, { status: tx.status, height: block.height, transaction_id: tx.transaction_id });
      const counter = tx.status === 'assigned' || tx.status === 'rejected' ? decisions : completions;
      counter.set(tx.task_id, (counter.get(tx.task_id) ?? 0) + 1);
      audit[tx.status]++;
      if (tx.vm_id === null) continue;
      const vmReserved = reserved.get(tx.vm_id);
      if (!vmReserved) {
        audit.unknown.push(`${tx.task_id}@${tx.vm_id}`);
        continue;
      }
      if (tx.vm_state_before && !sameVector(tx.vm_state_before.reserved, vmReserved, dimensions)) {
        audit.staleSnapshots.push({ height: block.height, task_id: tx.task_id, vm_id: tx.vm_id });
      }
      const sign = tx.status === 'assigned' ? 1 : -1;
      for (const d of dimensions) vmReserved[d] = vmReserved[d]! + sign * (tx.task_requirements[d] ?? 0);
    }
    for (const [vmId, vmReserved] of reserved) {
      const vmCapacity = capacity.get(vmId)!;
      for (const d of dimensions) {
        const share = vmCapacity[d]! > 0 ? vmReserved[d]! / vmCapacity[d]! : 0;
        audit.peakUtilisation[d] = Math.max(audit.peakUtilisation[d]!, share);
        if (vmReserved[d]! > vmCapacity[d]!) {
          audit.overCapacity.push({
            height: block.height,
            vm_id: vmId,
            dimension: d,
            reserved: vmReserved[d]!,
            capacity: vmCapacity[d]!,
          });
        }
      }
    }
  }

  for (const id of submitted) if (!decisions.has(id)) audit.lost.push(id);
  for (const [id, n] of decisions) if (n > 1) audit.recordedTwice.push(id);
  for (const [id, n] of completions) if (n > 1) audit.recordedTwice.push(id);

  const records = await store.getTasks(submitted);
  submitted.forEach((id, i) => {
    const record = records[i];
    const tx = last.get(id);
    if (!tx && !record) return; // lost, counted above
    if (
      !tx ||
      !record ||
      record.status !== tx.status ||
      record.block_height !== tx.height ||
      record.transaction_id !== tx.transaction_id
    ) {
      audit.recordMismatches.push(id);
    }
  });

  const stored = new Map((await store.getReservations()).map((r) => [r.vm_id, r.reserved]));
  for (const [vmId, vmReserved] of reserved) {
    if (!sameVector(stored.get(vmId) ?? zero(dimensions), vmReserved, dimensions)) {
      audit.reservationMismatches.push(vmId);
    }
  }
  return audit;
}

function zero(dimensions: Dimensions): ResourceVector {
  return Object.fromEntries(dimensions.map((d) => [d, 0]));
}

/** The audit's findings that mean something went wrong; empty for a sound ledger. */
export function auditFailures(audit: LedgerAudit): string[] {
  const failures: string[] = [];
  if (!audit.chainValid) failures.push(`chain does not verify: ${audit.chainProblem}`);
  if (!audit.heightsContiguous) failures.push('block heights are not 0..height once each');
  const lists: [keyof LedgerAudit, string][] = [
    ['lost', 'tasks lost'],
    ['recordedTwice', 'tasks recorded twice'],
    ['unknown', 'transactions about unknown tasks or VMs'],
    ['recordMismatches', 'task records disagreeing with the chain'],
    ['overCapacity', 'capacity breaches'],
    ['staleSnapshots', 'decisions on a stale VM state'],
    ['reservationMismatches', 'reservation records disagreeing with the chain'],
  ];
  for (const [key, label] of lists) {
    const found = audit[key] as unknown[];
    if (found.length > 0)
      failures.push(`${found.length} ${label}, e.g. ${JSON.stringify(found.slice(0, 3))}`);
  }
  return failures;
}
