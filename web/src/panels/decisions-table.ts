import { h } from '../dom';
import { clockTime, decimal, shortHash } from '../format';
import type { FrameScheduler } from '../frame';
import type { DecisionItem } from '../wire';

/** Rows kept and shown; older decisions stay in the ledger, where the CLI and export can reach them. */
export const MAX_DECISIONS = 60;

/**
 * The latest decisions, newest first. Only the bounded list is kept, and the body is rebuilt at most
 * once per frame however many `decisions` events arrived since the last one. While the pointer is
 * over the list it holds still: rows moving under the cursor would turn a click on one transaction
 * into a click on another.
 */
export class DecisionsTable {
  #items: DecisionItem[] = [];
  #total = 0;
  #paused = false;

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly counter: HTMLElement,
    private readonly frames: FrameScheduler,
    private readonly onTransaction: (transactionId: string) => void,
    hoverTarget: HTMLElement,
  ) {
    hoverTarget.addEventListener('mouseenter', () => {
      this.#paused = true;
      this.#invalidate();
    });
    hoverTarget.addEventListener('mouseleave', () => {
      this.#paused = false;
      this.#invalidate();
    });
  }

  reset(): void {
    this.#items = [];
    this.#total = 0;
    this.#invalidate();
  }

  add(items: readonly DecisionItem[]): void {
    this.#total += items.length;
    // Newest first; a commit lists its items in ledger order, so reverse them as a group.
    this.#items = [...items].reverse().concat(this.#items).slice(0, MAX_DECISIONS);
    this.#invalidate();
  }

  #invalidate(): void {
    this.frames.schedule('decisions', () => this.#render());
  }

  #render(): void {
    const total = `${this.#total.toLocaleString('en-US')} since connected`;
    this.counter.textContent = this.#paused ? `${total} · paused while the pointer is over the list` : total;
    this.body.dataset.paused = String(this.#paused);
    if (this.#paused && this.body.childElementCount > 0) return;
    if (this.#items.length === 0) {
      this.body.replaceChildren(
        h('tr', { class: 'empty' }, h('td', { colspan: '8' }, 'No decisions yet: start the generator.')),
      );
      return;
    }
    this.body.replaceChildren(
      ...this.#items.map((d) => {
        const link = h(
          'button',
          { type: 'button', class: 'link mono', title: d.transaction_id },
          shortHash(d.transaction_id, 8, 4),
        );
        link.addEventListener('click', () => this.onTransaction(d.transaction_id));
        return h(
          'tr',
          { 'data-status': d.status },
          h('td', { class: 'mono muted' }, clockTime(d.at)),
          h('td', { class: 'mono', title: d.task_id }, d.task_id),
          h('td', {}, h('span', { class: `badge badge-${d.status}` }, d.status)),
          h('td', { class: 'mono' }, d.vm_id ?? '—'),
          h('td', { class: 'num' }, decimal(d.score, 3)),
          h('td', { class: 'num' }, d.height),
          // Long free text: clipped by CSS, whole on hover.
          h('td', { class: 'reason', title: `${d.algorithm}: ${d.reason}` }, d.reason),
          h('td', {}, link),
        );
      }),
    );
  }
}
