import type { AuditCheckpoint } from '../engine/incremental-audit';

/**
 * Where an auditor keeps its checkpoint between runs (a DIGEST#CHECKPOINT item on AWS, docs/ledger-format.md
 * section 10.2; lib/engine/checkpointed-audit.ts). Only ever moved forward by a run that verified the
 * blocks up to it: a save of a checkpoint not past the stored one leaves the stored one.
 */
export interface AuditCheckpointStore {
  load(): Promise<AuditCheckpoint | null>;
  save(checkpoint: AuditCheckpoint): Promise<void>;
}
