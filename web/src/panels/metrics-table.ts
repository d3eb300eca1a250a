import { h } from '../dom';
import { decimal, integer, percent } from '../format';
import type { FrameScheduler } from '../frame';
import type { MetricsEvent } from '../wire';

/**
 * Per-algorithm outcomes since the server started, so switching algorithms at run time gives a
 * side-by-side comparison. Imbalance is the coefficient of variation of VM utilisation: lower is better.
 */
export class MetricsTable {
  #metrics: MetricsEvent | null = null;

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly frames: FrameScheduler,
  ) {}

  update(metrics: MetricsEvent): void {
    this.#metrics = metrics;
    this.frames.schedule('metrics-table', () => this.#render());
  }

  #render(): void {
    const metrics = this.#metrics;
    const entries = metrics ? Object.entries(metrics.by_algorithm) : [];
    if (!metrics || entries.length === 0) {
      this.body.replaceChildren(
        h('tr', { class: 'empty' }, h('td', { colspan: '8' }, 'No decisions recorded yet.')),
      );
      return;
    }
    this.body.replaceChildren(
      ...entries.map(([name, m]) =>
        h(
          'tr',
          { 'data-algorithm': name, class: name === metrics.algorithm ? 'current' : undefined },
          h(
            'th',
            { scope: 'row' },
            name,
            name === metrics.algorithm ? h('span', { class: 'tag' }, 'active') : null,
          ),
          h('td', { class: 'num' }, integer(m.decided)),
          h('td', { class: 'num' }, integer(m.placed)),
          h('td', { class: 'num' }, integer(m.rejected)),
          h('td', { class: 'num', 'data-metric': 'success_rate' }, percent(m.success_rate)),
          h('td', { class: 'num', 'data-metric': 'imbalance_cv' }, decimal(m.imbalance_cv, 3)),
          h('td', { class: 'num', 'data-metric': 'deadline_compliance' }, percent(m.deadline_compliance)),
          h('td', { class: 'num', 'data-metric': 'mean_utilisation' }, percent(m.mean_utilisation)),
        ),
      ),
    );
  }
}
