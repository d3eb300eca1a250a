import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { readOptionalJson } from '../../../http/errors';
import {
  type AuditCheckpoint,
  auditSince,
  checkpointAfterFullVerify,
} from '../../../lib/engine/incremental-audit';
import { verifiableBlocks } from '../../../lib/engine/verifiable-blocks';
import { NotFoundError, parseOrThrow } from '../../../lib/errors';
import { exportJsonl } from '../../../lib/ledger/jsonl';
import { verifyChain } from '../../../lib/ledger/verify';
import { verifyBodySchema } from '../../../lib/schemas/api';
import type { LocalAuditJobs } from '../../full-audit';
import type { LocalRuntime } from '../../runtime';

function signing(runtime: LocalRuntime) {
  if (!runtime.digestSigning) throw new NotFoundError('this runtime signs no digests (no signing key)');
  return runtime.digestSigning;
}

export function ledgerRoutes(runtime: LocalRuntime, audits: LocalAuditJobs): Hono {
  const app = new Hono();
  const { store } = runtime;

  // The transparency-log view (docs/ledger-format.md section 12): origin, verifier keys, witnesses.
  app.get('/tlog', async (c) => {
    const { tlog } = runtime;
    if (!tlog) throw new NotFoundError('this runtime publishes no checkpoints (no signing key)');
    return c.json({
      origin: tlog.checkpointer.origin,
      verifier_keys: tlog.verifierKeys,
      witnesses: tlog.checkpointer.witnessStatus(),
    });
  });

  // The key signed digests verify with (docs/ledger-format.md section 10), as an SPKI PEM.
  app.get('/public-key', async (c) => {
    c.header('Content-Type', 'application/x-pem-file');
    return c.body(await signing(runtime).publicKeyPem());
  });

  // Incremental after the first valid pass: only the blocks after the last verified head are read
  // (lib/engine/incremental-audit.ts). {"full": true} starts a full re-audit in the background on the
  // worker-thread verifier (runtime/full-audit.ts) and answers 202 with its job. The checkpoint lives in
  // this process: a restarted server starts with a full pass.
  let checkpoint: AuditCheckpoint | null = null;
  app.post('/verify', async (c) => {
    // No body is {}; a JSON null is a body, and not an object (400), as on AWS.
    const body = await readOptionalJson(c);
    const { full } = parseOrThrow(verifyBodySchema, body === undefined ? {} : body, 'invalid request body');
    if (full) {
      const trusted = (await runtime.digestSigning?.trusted()) ?? null;
      if (!(trusted && 'problem' in trusted)) {
        const job = await audits.start(trusted?.digest ?? null, async (digest) => {
          checkpoint = (await checkpointAfterFullVerify(store, digest)) ?? checkpoint;
        });
        return c.json(job, 202);
      }
    }
    if (checkpoint && !full) {
      const run = await auditSince(store, checkpoint);
      if (run.valid) checkpoint = run.checkpoint;
      return c.json({
        valid: run.valid,
        height: run.checkpoint.height,
        head_hash: run.checkpoint.head_hash,
        blocks_checked: run.blocks_checked,
        transactions_checked: run.transactions_checked,
        first_bad_height: run.first_bad_height,
        problem: run.problem,
        detail: run.detail,
      });
    }
    const head = await store.readHead();
    // Held to the latest digest this runtime signed, as the verify Lambda is to its DIGEST# items: a
    // chain rolled back or rewritten past a signed head is reported even with every hash recomputed.
    const trusted = (await runtime.digestSigning?.trusted()) ?? null;
    if (trusted && 'problem' in trusted) {
      checkpoint = null;
      return c.json({
        valid: false,
        height: head.height,
        head_hash: head.hash,
        blocks_checked: 0,
        transactions_checked: 0,
        first_bad_height: null,
        problem: 'digest-mismatch',
        detail: trusted.problem,
      });
    }
    // verifiableBlocks: a row the store cannot parse is a finding at its height.
    const { digest, ...report } = await verifyChain(verifiableBlocks(store, head.height), {
      expectedHead: head,
      ...(trusted ? { trustedDigest: trusted.digest } : {}),
    });
    checkpoint = report.valid && digest ? await checkpointAfterFullVerify(store, digest) : null;
    return c.json(report);
  });

  app.get('/export', async (c) => {
    const head = await store.readHead();
    c.header('Content-Type', 'application/x-ndjson');
    c.header('Content-Disposition', 'attachment; filename="ledger.jsonl"');
    return stream(c, async (out) => {
      for await (const line of exportJsonl(verifiableBlocks(store, head.height))) {
        if (out.aborted) return;
        await out.write(line);
      }
    });
  });

  return app;
}
