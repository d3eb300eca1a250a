import type { APIGatewayProxyEvent, APIGatewayProxyResult, ScheduledEvent } from 'aws-lambda';
import { ValidationError } from '../../lib/errors';
import type { VerificationReport } from '../../lib/ledger/types';
import { verifyChain } from '../../lib/ledger/verify';
import type { LedgerStore } from '../../lib/ports/ledger-store';
import { blocksFromStore } from '../../runtime/store-blocks';
import { invalid, json, parseJsonBody } from '../shared/http';
import { VERIFY_METRICS } from '../shared/metric-names';
import type { LogSink, MetricSink } from '../shared/observability';

export interface VerifyDeps {
  store: () => LedgerStore | Promise<LedgerStore>;
  /**
   * Whether the table holds a chain yet. The store writes genesis on first use, which this
   * read-only function may not do, so an unstarted ledger is reported without touching the store.
   */
  started: () => Promise<boolean>;
  logger: LogSink;
  metrics: MetricSink;
}

const NOT_STARTED: VerificationReport = {
  valid: true,
  height: -1,
  head_hash: null,
  blocks_checked: 0,
  transactions_checked: 0,
  first_bad_height: null,
  problem: null,
  detail: 'the ledger has no blocks yet: nothing has been scheduled',
};

const isApiEvent = (event: unknown): event is APIGatewayProxyEvent =>
  typeof event === 'object' && event !== null && 'httpMethod' in event;

/**
 * POST /ledger/verify and the EventBridge schedule run the same full verification, against the head
 * read first (blocks appended meanwhile are left for the next run). Each run publishes ChainValid
 * (1 or 0) and ChainHeight, so a broken chain raises the alarm even when nobody is asking. The API
 * answers 200 with the report whether the chain is valid or not, like the local runtime: an
 * invalid chain is a finding, not a failed request.
 */
export function verifyHandler(deps: VerifyDeps) {
  async function run(): Promise<VerificationReport> {
    let report: VerificationReport = NOT_STARTED;
    if (await deps.started()) {
      const store = await deps.store();
      const head = await store.readHead();
      const { digest: _digest, ...full } = await verifyChain(blocksFromStore(store, head.height), {
        expectedHead: head,
      });
      report = full;
    }
    deps.metrics.addMetric(VERIFY_METRICS.chainValid, 'Count', report.valid ? 1 : 0);
    if (report.height >= 0) deps.metrics.addMetric(VERIFY_METRICS.chainHeight, 'Count', report.height);
    deps.metrics.publishStoredMetrics();
    if (report.valid) deps.logger.info('chain verified', { report });
    else deps.logger.error('chain verification failed', { report });
    return report;
  }

  return async (
    event: APIGatewayProxyEvent | ScheduledEvent,
  ): Promise<APIGatewayProxyResult | VerificationReport> => {
    if (!isApiEvent(event)) return run();
    if (event.body) {
      try {
        const body = parseJsonBody(event.body, event.isBase64Encoded);
        // No options yet: anything but an empty object is refused rather than silently ignored.
        if (
          typeof body !== 'object' ||
          body === null ||
          Array.isArray(body) ||
          Object.keys(body).length > 0
        ) {
          throw new ValidationError(
            [{ field: '', message: 'the verify request takes no parameters; send {} or no body' }],
            'invalid request body',
          );
        }
      } catch (err) {
        if (err instanceof ValidationError) return invalid(err);
        throw err;
      }
    }
    return json(200, await run());
  };
}
