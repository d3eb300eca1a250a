import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, ScheduledEvent } from 'aws-lambda';
import { invalid, json, parseJsonBody } from '../../lib/adapters/apigateway/proxy-responses';
import { type AuditCheckpointStore, resumeAudit } from '../../lib/engine/checkpointed-audit';
import { startFullAudit } from '../../lib/engine/full-audit';
import { latestTrustedDigest, signIntoLog, type TrustedDigest } from '../../lib/engine/trusted-digest';
import { verifiableBlocks } from '../../lib/engine/verifiable-blocks';
import { parseOrThrow, ValidationError } from '../../lib/errors';
import type { SignedDigest } from '../../lib/ledger/signed-digest';
import { toTimestamp } from '../../lib/ledger/time';
import type { Digest, VerificationReport } from '../../lib/ledger/types';
import { verifyChain } from '../../lib/ledger/verify';
import type { AuditJobRunner, AuditJobStore } from '../../lib/ports/audit-jobs';
import type { Clock } from '../../lib/ports/clock';
import type { DigestSigner } from '../../lib/ports/digest-signer';
import type { LedgerStore } from '../../lib/ports/ledger-store';
import type { LogSink, MetricSink } from '../../lib/ports/observability';
import type { SignedDigestLog } from '../../lib/ports/signed-digest-log';
import { verifyBodySchema } from '../../lib/schemas/api';
import { VERIFY_METRICS } from '../../lib/schemas/metric-names';

export interface VerifyDeps {
  store: () => LedgerStore | Promise<LedgerStore>;
  /**
   * Whether the table holds a chain yet. The store writes genesis on first use, which this
   * read-only function may not do, so an unstarted ledger is reported without touching the store.
   */
  started: () => Promise<boolean>;
  logger: LogSink;
  metrics: MetricSink;
  /**
   * On scheduled runs, the digest of a chain that verified is signed and published (a DIGEST# item on
   * AWS), stamped with the signing time. Without it nothing is signed.
   */
  signing?: {
    signer: DigestSigner;
    digests: SignedDigestLog;
    clock: Clock;
  };
  /**
   * With it, every run is incremental (lib/engine/checkpointed-audit.ts): it verifies only the blocks after
   * the saved checkpoint (or the latest signed digest), within a time budget, and saves where it got to,
   * so no run outgrows the function's timeout and a long chain is caught up over several runs. Without it
   * (tests of the full pass), every run verifies the whole chain.
   */
  checkpoints?: AuditCheckpointStore;
  /**
   * Milliseconds a run may spend verifying, given what the invocation has left. Defaults: a scheduled
   * run stops 30 s before its timeout; an API run after 20 s (API Gateway answers within 29 s).
   */
  budgetMs?: (kind: 'scheduled' | 'api', remainingMs: number | undefined) => number;
  /**
   * POST /ledger/verify {"full": true}: a full re-audit run by the Step Functions state machine
   * (cdk/lib/constructs/full-audit.ts). Without it such a request is refused (400 naming `full`).
   */
  fullAudit?: {
    jobs: AuditJobStore;
    runner: AuditJobRunner;
    /** Blocks per range (each range is one Lambda invocation). */
    blocksPerRange: number;
    maxRanges?: number;
    clock: Clock;
  };
}

/** What a checkpointed run adds to the report: whether it stopped at its budget, and how far behind it is. */
export type VerifyRunReport = VerificationReport & { incomplete?: boolean; behind?: number };

function defaultBudget(kind: 'scheduled' | 'api', remainingMs: number | undefined): number {
  if (kind === 'api') return Math.min(20_000, Math.max(1_000, (remainingMs ?? 20_000) - 5_000));
  return Math.max(1_000, (remainingMs ?? 270_000) - 30_000);
}

/** What a scheduled run returns: the report, and the digest it signed, if any. */
export type ScheduledVerification = VerifyRunReport & { signed_digest?: SignedDigest };

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
 * POST /ledger/verify and the EventBridge schedule run the same verification, against the head read
 * first (blocks appended meanwhile are left for the next run): with `checkpoints` (as deployed) only the
 * blocks after the saved checkpoint, within a budget, resuming where the last run stopped; without, the
 * whole chain. Each run publishes ChainValid
 * (1 or 0) and ChainHeight, so a broken chain raises the alarm even when nobody is asking. The API
 * answers 200 with the report whether the chain is valid or not, like the local runtime: an
 * invalid chain is a finding, not a failed request. With `signing`, every run first checks the chain
 * against the latest signed digest, and a scheduled run that verified signs and publishes its head.
 */
export function verifyHandler(deps: VerifyDeps) {
  async function run(
    kind: 'scheduled' | 'api',
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<{ report: VerifyRunReport; digest: Digest | null }> {
    let report: VerifyRunReport = NOT_STARTED;
    let digest: Digest | null = null;
    if (await deps.started()) {
      const store = await deps.store();
      const head = await store.readHead();
      const trusted = await latestTrusted();
      if (deps.checkpoints && !(trusted && 'problem' in trusted)) {
        const budgetMs = (deps.budgetMs ?? defaultBudget)(kind, context?.getRemainingTimeInMillis());
        const resumed = await resumeAudit(store, {
          checkpoints: deps.checkpoints,
          trusted: trusted?.digest ?? null,
          budgetMs,
        });
        report = resumed.report;
        digest = resumed.digest;
      } else if (trusted && 'problem' in trusted) {
        report = {
          ...NOT_STARTED,
          valid: false,
          height: head.height,
          head_hash: head.hash,
          detail: trusted.problem,
          problem: 'digest-mismatch',
          first_bad_height: null,
        };
      } else {
        const { digest: computed, ...full } = await verifyChain(verifiableBlocks(store, head.height), {
          expectedHead: head,
          ...(trusted ? { trustedDigest: trusted.digest } : {}),
        });
        report = full;
        digest = computed ?? null;
      }
    }
    deps.metrics.addMetric(VERIFY_METRICS.chainValid, 'Count', report.valid ? 1 : 0);
    if (report.height >= 0) deps.metrics.addMetric(VERIFY_METRICS.chainHeight, 'Count', report.height);
    if (report.behind !== undefined)
      deps.metrics.addMetric(VERIFY_METRICS.auditBehind, 'Count', report.behind);
    deps.metrics.publishStoredMetrics();
    if (report.valid) deps.logger.info('chain verified', { report });
    else deps.logger.error('chain verification failed', { report });
    return { report, digest: report.valid ? digest : null };
  }

  /** The latest signed digest, checked against the signing key; a forged or altered one is a finding. */
  async function latestTrusted(): Promise<TrustedDigest | null> {
    if (!deps.signing) return null;
    return latestTrustedDigest(deps.signing.digests, deps.signing.signer);
  }

  // Only a chain that verified is signed: a signature vouches for the digest to anyone holding the key.
  async function signAndPublish(digest: Digest): Promise<SignedDigest> {
    const signing = deps.signing!;
    const signed = await signIntoLog(digest, signing, signing.clock);
    deps.logger.info('digest signed', {
      height: signed.height,
      head_hash: signed.head_hash,
      blocks_root: signed.blocks_root,
      key_id: signed.key_id,
    });
    return signed;
  }

  async function scheduled(context?: Context): Promise<ScheduledVerification> {
    const { report, digest } = await run('scheduled', context);
    if (!digest || !deps.signing) return report;
    return { ...report, signed_digest: await signAndPublish(digest) };
  }

  return async (
    event: APIGatewayProxyEvent | ScheduledEvent,
    context?: Context,
  ): Promise<APIGatewayProxyResult | ScheduledVerification> => {
    if (!isApiEvent(event)) return scheduled(context);
    let full = false;
    try {
      const body = event.body ? parseJsonBody(event.body, event.isBase64Encoded) : {};
      full = parseOrThrow(verifyBodySchema, body, 'invalid request body').full ?? false;
      if (full && !deps.fullAudit) {
        throw new ValidationError(
          [{ field: 'full', message: 'this deployment runs no full re-audits' }],
          'invalid request body',
        );
      }
    } catch (err) {
      if (err instanceof ValidationError) return invalid(err);
      throw err;
    }
    if (full && deps.fullAudit && (await deps.started())) {
      const trusted = await latestTrusted();
      // A forged latest digest is reported at once, as the incremental run reports it.
      if (!(trusted && 'problem' in trusted)) {
        const { jobs, runner, blocksPerRange, maxRanges, clock } = deps.fullAudit;
        const job = await startFullAudit({
          store: await deps.store(),
          jobs,
          runner,
          trusted: trusted?.digest ?? null,
          blocksPerRange,
          ...(maxRanges !== undefined ? { maxRanges } : {}),
          now: () => toTimestamp(clock.now()),
        });
        deps.logger.info('full audit started', {
          job_id: job.job_id,
          head: job.head,
          ranges: job.ranges.length,
        });
        return json(202, job);
      }
    }
    return json(200, (await run('api', context)).report);
  };
}
