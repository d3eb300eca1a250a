import { z } from 'zod';
import { ApiError, request } from '../api';
import { byId, h, setText } from '../dom';
import { clockTime, integer, shortHash } from '../format';
import type { FrameScheduler } from '../frame';
import { type BlockEvent, type LedgerSummary, verificationReportSchema } from '../wire';

const RECENT_BLOCKS = 12;

const blockRowSchema = z.object({
  height: z.number().int(),
  block_hash: z.string(),
  transaction_count: z.number().int(),
  timestamp: z.string(),
});
// The page of blocks may come bare or wrapped; both carry the same block objects.
const blocksPageSchema = z.union([
  z.array(blockRowSchema),
  z.object({ blocks: z.array(blockRowSchema) }).transform((page) => page.blocks),
]);

const transactionLookupSchema = z.record(z.string(), z.unknown());

/**
 * Chain head, recent blocks, verification and export. Verify asks the server to re-hash the whole
 * chain (POST /ledger/verify) and shows its report as is; the dashboard never claims validity itself.
 */
export class LedgerPanel {
  #height = 0;
  #headHash = '';
  #transactions = 0;
  #blocks: BlockEvent[] = [];
  readonly #heightEl = byId('ledger-height');
  readonly #kpiHeight = byId('kpi-height');
  readonly #kpiTransactions = byId('kpi-transactions');
  readonly #headEl = byId('ledger-head');
  readonly #txEl = byId('ledger-transactions');
  readonly #blocksEl = byId<HTMLOListElement>('ledger-blocks');
  readonly #verifyButton = byId<HTMLButtonElement>('verify-button');
  readonly #result = byId('verify-result');
  readonly #dialog = byId<HTMLDialogElement>('transaction-dialog');

  constructor(private readonly frames: FrameScheduler) {
    this.#verifyButton.addEventListener('click', () => void this.verify());
    byId('transaction-close').addEventListener('click', () => this.#dialog.close());
  }

  reset(summary: LedgerSummary): void {
    this.#height = summary.height;
    this.#headHash = summary.head_hash;
    this.#transactions = summary.transaction_count;
    this.#blocks = [];
    this.#invalidate();
    void this.#loadRecentBlocks(summary.height);
  }

  async #loadRecentBlocks(height: number): Promise<void> {
    const from = Math.max(0, height - RECENT_BLOCKS + 1);
    try {
      const blocks = await request(blocksPageSchema, `/ledger/blocks?from=${from}&limit=${RECENT_BLOCKS}`);
      const live = new Set(this.#blocks.map((b) => b.height));
      const loaded = blocks
        .filter((b) => !live.has(b.height))
        .map((b) => ({
          height: b.height,
          hash: b.block_hash,
          transaction_count: b.transaction_count,
          timestamp: b.timestamp,
        }));
      this.#blocks = [...this.#blocks, ...loaded].sort((a, b) => b.height - a.height).slice(0, RECENT_BLOCKS);
      this.#invalidate();
    } catch (error) {
      console.warn('recent blocks unavailable', error);
    }
  }

  addBlock(block: BlockEvent): void {
    // Blocks at or below the snapshot's height are already in its counts; they only join the list.
    if (block.height > this.#height) {
      this.#height = block.height;
      this.#headHash = block.hash;
      this.#transactions += block.transaction_count;
    }
    if (!this.#blocks.some((b) => b.height === block.height)) {
      this.#blocks = [block, ...this.#blocks].sort((a, b) => b.height - a.height).slice(0, RECENT_BLOCKS);
    }
    this.#invalidate();
  }

  async verify(): Promise<void> {
    this.#verifyButton.disabled = true;
    this.#result.className = 'verify-result pending';
    this.#result.dataset.state = 'pending';
    this.#result.replaceChildren(h('span', {}, 'Re-hashing the chain…'));
    try {
      const report = await request(verificationReportSchema, '/ledger/verify', { method: 'POST' });
      this.#result.className = `verify-result ${report.valid ? 'valid' : 'invalid'}`;
      this.#result.dataset.state = report.valid ? 'valid' : 'invalid';
      const field = (name: string, value: string) =>
        h('div', {}, h('dt', {}, name), h('dd', { class: 'mono' }, value));
      this.#result.replaceChildren(
        h(
          'div',
          { class: 'verdict', 'data-testid': 'verify-verdict' },
          report.valid ? '✔ Chain valid' : `✘ Chain invalid: ${report.problem ?? 'unknown problem'}`,
        ),
        h(
          'dl',
          {},
          field('height', integer(report.height)),
          field('blocks checked', integer(report.blocks_checked)),
          field('transactions checked', integer(report.transactions_checked)),
          field('head hash', shortHash(report.head_hash, 12, 8)),
          report.valid ? null : field('first bad height', integer(report.first_bad_height)),
          report.detail ? field('detail', report.detail) : null,
        ),
      );
    } catch (error) {
      this.#result.className = 'verify-result error';
      this.#result.dataset.state = 'error';
      this.#result.replaceChildren(
        h('div', { class: 'verdict' }, 'Verification request failed'),
        h('div', { class: 'muted' }, error instanceof ApiError ? error.describe() : String(error)),
      );
    } finally {
      this.#verifyButton.disabled = false;
    }
  }

  /** Shows one transaction with its block position and inclusion proof, as the server returns it. */
  async showTransaction(id: string): Promise<void> {
    const body = byId('transaction-body');
    body.textContent = 'Loading…';
    if (!this.#dialog.open) this.#dialog.showModal();
    try {
      const found = await request(transactionLookupSchema, `/ledger/transactions/${encodeURIComponent(id)}`);
      body.textContent = JSON.stringify(found, null, 2);
    } catch (error) {
      body.textContent = error instanceof ApiError ? error.describe() : String(error);
    }
  }

  #invalidate(): void {
    this.frames.schedule('ledger', () => this.#render());
  }

  #render(): void {
    const height = integer(this.#height);
    setText(this.#heightEl, height);
    setText(this.#kpiHeight, height);
    this.#heightEl.dataset.height = String(this.#height);
    setText(this.#headEl, shortHash(this.#headHash, 16, 8));
    this.#headEl.title = this.#headHash;
    const transactions = integer(this.#transactions);
    setText(this.#txEl, transactions);
    setText(this.#kpiTransactions, transactions);
    this.#blocksEl.replaceChildren(
      ...this.#blocks.map((b) =>
        h(
          'li',
          { 'data-height': String(b.height) },
          h('span', { class: 'block-height' }, `#${b.height}`),
          h('span', { class: 'mono hash', title: b.hash }, shortHash(b.hash, 12, 6)),
          h('span', { class: 'muted' }, `${b.transaction_count} tx`),
          h('span', { class: 'mono muted' }, clockTime(b.timestamp)),
        ),
      ),
    );
  }
}
