import type { Checkpointer } from '../../lib/engine/checkpointer';
import { type PublishResult, publishTlog } from '../../lib/engine/tlog-publisher';
import type { LedgerStore, MerkleLedgerStore } from '../../lib/ports/ledger-store';
import type { ObjectStore } from '../../lib/ports/object-store';
import type { LogSink, MetricSink } from '../../lib/ports/observability';
import { TLOG_METRICS } from '../../lib/schemas/metric-names';

export interface PublishLogDeps {
  store: () => (LedgerStore & MerkleLedgerStore) | Promise<LedgerStore & MerkleLedgerStore>;
  /** Whether the table holds a chain yet (this read-only function must not write genesis). */
  started: () => Promise<boolean>;
  checkpointer: () => Checkpointer | Promise<Checkpointer>;
  objects: ObjectStore;
  logger: LogSink;
  metrics: MetricSink;
}

/**
 * The scheduled publisher of the transparency log (docs/ledger-format.md section 12): tiles and the
 * signed, witnessed checkpoint to the log bucket (lib/engine/tlog-publisher.ts). Publishes TreeSize,
 * and with witnesses WitnessCosignatures and WitnessFailures, which the stack's alarm reads: a witness
 * that is down or refuses is logged and counted here, and never touches scheduling.
 */
export function publishLogHandler(deps: PublishLogDeps) {
  return async (): Promise<PublishResult | { skipped: string }> => {
    try {
      if (!(await deps.started())) return { skipped: 'the ledger has no blocks yet' };
      const checkpointer = await deps.checkpointer();
      const before = checkpointer.witnessStatus().reduce((n, w) => n + w.failures, 0);
      const result = await publishTlog({ store: await deps.store(), checkpointer, objects: deps.objects });
      const witnesses = checkpointer.witnessStatus();
      deps.metrics.addMetric(TLOG_METRICS.treeSize, 'Count', result.tree_size);
      if (witnesses.length > 0 && result.tree_size > result.previous_size) {
        deps.metrics.addMetric(TLOG_METRICS.cosignatures, 'Count', result.cosigned_by.length);
        deps.metrics.addMetric(
          TLOG_METRICS.witnessFailures,
          'Count',
          witnesses.reduce((n, w) => n + w.failures, 0) - before,
        );
        for (const w of witnesses.filter((s) => s.last_error !== null)) {
          deps.logger.warn('witness did not cosign', { witness: w.name, url: w.url, error: w.last_error });
        }
      }
      deps.logger.info('published the log', { ...result });
      return result;
    } finally {
      deps.metrics.publishStoredMetrics();
    }
  };
}
