import * as z from 'zod';
import type { CommitPlan } from './commit-plan';
import { PARTITION_KEY, vmDirectoryKey } from './keys';

/**
 * The VM directory (docs/ledger-format.md 7.1): which VMs have a `VM#` item, kept so that a summary
 * (GET /ledger) reads every VM by key, in a number of requests that does not grow with the chain,
 * instead of scanning the table.
 *
 * - Pages `VMDIR#000000`, `VMDIR#000001`, ...: `vm_ids`, a String Set. A VM is ADDed to the last page by
 *   the append whose VM# write may create its item (the store adds every VM of the commit it has not
 *   seen an item of; adding one twice is harmless, a set holds it once, and a reader unions the pages).
 * - HEAD carries `vmdir_pages` (pages 0..vmdir_pages-1 may hold ids; a page never written is absent)
 *   and `vmdir_tail` (ids added to the last page, repeats counted). An append that would take the last
 *   page past PAGE_CAPACITY starts the next page. HEAD is replaced by every append under its
 *   compare-and-set, so the page an append adds to is decided under the same serialisation as the chain,
 *   and the directory update is one more item of the same TransactWriteItems, on the chain's hot key only.
 * - A HEAD without `vmdir_pages` (a table written before the directory, or HEAD replaced by a writer of
 *   that version) has no trustworthy directory: a reader then scans, and the next writer rebuilds it
 *   from the chain (every VM id a non-rejected transaction names) before it appends.
 */
export const VM_DIRECTORY_PAGE_CAPACITY = 500;
/** The one item an append may add for the directory (kept free beside the Merkle tiles). */
export const VM_DIRECTORY_ITEMS_PER_COMMIT = 1;

export interface VmDirectory {
  pages: number;
  tail: number;
}

const directorySchema = z.object({
  vmdir_pages: z.number().int().min(1),
  vmdir_tail: z.number().int().min(0),
});

/** The directory HEAD describes; null when HEAD has none (see above). */
export function directoryFromHead(item: Record<string, unknown>): VmDirectory | null {
  if (item.vmdir_pages === undefined) return null;
  const parsed = directorySchema.safeParse(item);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`malformed VM directory on item ${String(item[PARTITION_KEY])}: ${issues}`);
  }
  return { pages: parsed.data.vmdir_pages, tail: parsed.data.vmdir_tail };
}

export function directoryAttributes(directory: VmDirectory): Record<string, number> {
  return { vmdir_pages: directory.pages, vmdir_tail: directory.tail };
}

/** The directory of a fresh table: one (empty) page. */
export const EMPTY_DIRECTORY: VmDirectory = { pages: 1, tail: 0 };

/**
 * Adds `newVmIds` to the planned commit: one ADD to the last page (or to a new page when the last is
 * full), and the new directory state on the HEAD put. Without new VMs only HEAD's attributes are set.
 */
export function addVmDirectory(
  plan: CommitPlan,
  tableName: string,
  directory: VmDirectory,
  newVmIds: readonly string[],
): VmDirectory {
  let next = directory;
  if (newVmIds.length > 0) {
    next =
      directory.tail > 0 && directory.tail + newVmIds.length > VM_DIRECTORY_PAGE_CAPACITY
        ? { pages: directory.pages + 1, tail: newVmIds.length }
        : { pages: directory.pages, tail: directory.tail + newVmIds.length };
    const key = vmDirectoryKey(next.pages - 1);
    plan.items.push({
      Update: {
        TableName: tableName,
        Key: { [PARTITION_KEY]: key },
        UpdateExpression: 'ADD #ids :ids',
        ExpressionAttributeNames: { '#ids': 'vm_ids' },
        ExpressionAttributeValues: { ':ids': new Set(newVmIds) },
      },
    });
    plan.kinds.push('vm-directory');
    plan.keys.push(key);
  }
  const head = plan.items[plan.kinds.indexOf('head')]?.Put;
  if (!head?.Item) throw new Error('planned commit has no HEAD put');
  head.Item = { ...head.Item, ...directoryAttributes(next) };
  return next;
}

/** The VM ids of a directory page item. */
export function vmIdsFromPage(item: Record<string, unknown>): string[] {
  const ids = item.vm_ids;
  if (!(ids instanceof Set) || ![...ids].every((id) => typeof id === 'string')) {
    throw new Error(`malformed VM directory page ${String(item[PARTITION_KEY])}: vm_ids is not a string set`);
  }
  return [...(ids as Set<string>)];
}
