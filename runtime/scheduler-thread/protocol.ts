import type { ScheduleOutcome } from '../../lib/engine/types';
import type { Vm } from '../../lib/model/vm';
import type { AlgorithmParams } from '../../lib/scheduling/types';

/** What the scheduler thread needs to open its own connection and engine. */
export interface WorkerSettings {
  dbPath: string;
  synchronous: 'FULL' | 'NORMAL';
  dimensions: string[];
  algorithm: string;
  params: Partial<AlgorithmParams>;
  seed: number;
  blockSize: number;
  batchSize: number;
  leaseGraceSeconds: number;
  /** The engine's maxWaitSeconds; its default when absent. */
  maxWaitSeconds?: number;
}

export type ToWorker =
  | { type: 'wake' }
  | { type: 'set-algorithm'; name: string; params: Partial<AlgorithmParams> }
  | { type: 'vms'; id: number; vms: Vm[] }
  | { type: 'vms-failed'; id: number; message: string }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'list-vms'; id: number }
  | { type: 'outcome'; outcome: ScheduleOutcome }
  | { type: 'error'; message: string }
  | { type: 'stopped' };
