import * as z from 'zod';
import { ApiError, request } from '../api';
import { byId, h, setText } from '../dom';
import { clockTime, integer, shortHash } from '../format';
import type { FrameScheduler } from '../frame';
import { type BlockEvent, digestSchema, type LedgerSummary, verificationReportSchema } from '../wire';

const RECENT_BLOCKS = 12;

const blockRowSchema = z.object({
  height: z.number().int(),
  block_hash: z.string(),
  transaction_count: z.number().int(),
  timestamp: z.string(),
});
const blocksPageSchema = z.object({ blocks: z.array(blockRowSchema) });

/** GET /ledger/transactions/{id}: the transaction and its RFC 9162 proofs up to the current digest. */
const transactionProofSchema = z.object({
  transaction: z.looseObject({ transaction_id: z.string() }),
  height: z.number().int(),
  index: z.number().int(),
  tx_proof: z.array(z.string()),
  block_proof: z.array(z.string()),
  digest: digestSchema,
});

/**
 * Chain head, recent blocks, verification and export. Verify asks the server to re-hash the whole
 * chain (POST /ledger/verify) and shows its report as is; the dashboard never claims validity itself.
 */
export class LedgerPanel {
  #height = 0;
  #headHash = '';
  #transactions = 0;
  #blocks: BlockEvent[] = [];
  #blocksRoot = '';
  #rootTreeSize = 0;
  #syncing = false;
  #syncTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #heightEl = byId('ledger-height');
  readonly #kpiHeight = byId('kpi-height');
  readonly #kpiTransactions = byId('kpi-transactions');
  readonly #headEl = byId('ledger-head');
  readonly #txEl = byId('ledger-transactions');
  readonly #rootEl = byId('ledger-root');
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
    void this.sync();
  }

  async #loadRecentBlocks(height: number): Promise<void> {
    const from = Math.max(0, height - RECENT_BLOCKS + 1);
    try {
      const { blocks } = await request(
        blocksPageSchema,
        `/ledger/blocks?from=${from}&limit=${RECENT_BLOCKS}`,
      );
      const loadedHeights = new Set(blocks.map((b) => b.height));
      const loaded = blocks.map((b) => ({
        height: b.height,
        hash: b.block_hash,
        transaction_count: b.transaction_count,
        timestamp: b.timestamp,
      }));
      const kept = this.#blocks.filter((b) => !loadedHeights.has(b.height));
      this.#blocks = [...kept, ...loaded].sort((a, b) => b.height - a.height).slice(0, RECENT_BLOCKS);
      this.#invalidate();
    } catch (error) {
      console.warn('recent blocks unavailable', error);
    }
  }

  addBlock(block: BlockEvent): void {
    if (block.height > this.#height) {
      // The newest block is the head, announced or not in between; only the count needs all of them.
      if (block.height === this.#height + 1) this.#transactions += block.transaction_count;
      else this.#requestSync(); // blocks were missed (the server thins events): count from the digest
      this.#height = block.height;
      this.#headHash = block.hash;
    }
    if (!this.#blocks.some((b) => b.height === block.height)) {
      this.#blocks = [block, ...this.#blocks].sort((a, b) => b.height - a.height).slice(0, RECENT_BLOCKS);
    }
    this.#invalidate();
  }

  /**
   * Re-reads the head from GET /ledger/digest. Block events make the panel immediate; the digest
   * keeps it exact, whatever events were thinned or lost, and supplies the RFC 9162 blocks root.
   */
  async sync(): Promise<void> {
    if (this.#syncing) return;
    this.#syncing = true;
    try {
      const digest = await request(digestSchema, '/ledger/digest');
      const missing = digest.height > this.#height && !this.#blocks.some((b) => b.height === digest.height);
      if (digest.height >= this.#height) {
        this.#height = digest.height;
        this.#headHash = digest.head_hash;
        this.#transactions = digest.transaction_count;
      } else {
        // Blocks announced while the digest was read are newer than it: add them when none is missing.
        const newer = this.#blocks.filter((b) => b.height > digest.height);
        if (newer.length === this.#height - digest.height) {
          this.#transactions = newer.reduce((n, b) => n + b.transaction_count, digest.transaction_count);
        }
      }
      this.#blocksRoot = digest.blocks_root;
      this.#rootTreeSize = digest.tree_size;
      this.#invalidate();
      if (missing || this.#hasHoles()) await this.#loadRecentBlocks(digest.height);
    } catch (error) {
      console.warn('ledger digest unavailable', error);
    } finally {
      this.#syncing = false;
    }
  }

  /** Coalesces sync requests: during a burst of out-of-order blocks, one digest read per 300 ms. */
  #requestSync(): void {
    if (this.#syncTimer !== undefined) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      void this.sync();
    }, 300);
  }

  #hasHoles(): boolean {
    return this.#blocks.some((b, i) => i > 0 && this.#blocks[i - 1]!.height - b.height !== 1);
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
    const summary = byId('transaction-summary');
    summary.replaceChildren();
    body.textContent = 'Loading…';
    if (!this.#dialog.open) this.#dialog.showModal();
    try {
      const proof = await request(transactionProofSchema, `/ledger/transactions/${encodeURIComponent(id)}`);
      summary.replaceChildren(
        h('div', {}, h('dt', {}, 'block'), h('dd', {}, `#${proof.height}, position ${proof.index}`)),
        h('div', {}, h('dt', {}, 'proof in the block'), h('dd', {}, `${proof.tx_proof.length} hashes`)),
        h(
          'div',
          {},
          h('dt', {}, 'proof to the digest'),
          h('dd', {}, `${proof.block_proof.length} hashes, tree size ${integer(proof.digest.tree_size)}`),
        ),
        h(
          'div',
          {},
          h('dt', {}, 'blocks root'),
          h('dd', { class: 'mono' }, shortHash(proof.digest.blocks_root, 12, 8)),
        ),
      );
      body.textContent = JSON.stringify(proof, null, 2);
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
    setText(
      this.#rootEl,
      this.#blocksRoot
        ? `${shortHash(this.#blocksRoot, 16, 8)} · tree size ${integer(this.#rootTreeSize)}`
        : '—',
    );
    this.#rootEl.title = this.#blocksRoot;
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
