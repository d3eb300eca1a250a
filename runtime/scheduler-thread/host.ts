import { Worker } from 'node:worker_threads';
import type { ScheduleOutcome } from '../../lib/engine/types';
import type { FleetSource } from '../../lib/ports/fleet-source';
import type { AlgorithmParams } from '../../lib/scheduling/types';
import type { BatchScheduler } from '../runtime';
import type { FromWorker, ToWorker, WorkerSettings } from './protocol';

export interface SchedulerThreadOptions {
  settings: WorkerSettings;
  fleet: FleetSource;
  onOutcome: (outcome: ScheduleOutcome) => void;
  onError: (error: unknown) => void;
}

/** The main thread's handle on the scheduler thread (runtime/scheduler-thread/worker-main.ts). */
export class SchedulerThread implements BatchScheduler {
  private worker: Worker | null = null;
  private stopped: Promise<void> | null = null;
  private stopping = false;

  constructor(private readonly options: SchedulerThreadOptions) {}

  /** Resolves once the thread has opened its connection and started its loop. */
  async start(): Promise<void> {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: this.options.settings });
    this.worker = worker;
    let ready: () => void = () => undefined;
    let failed: (error: Error) => void = () => undefined;
    const started = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    let finished: () => void = () => undefined;
    this.stopped = new Promise<void>((resolve) => {
      finished = resolve;
    });
    worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'ready':
          ready();
          break;
        case 'list-vms':
          // A fleet source that throws must fail that one call on the thread, not leave it waiting forever.
          this.options.fleet.listVms().then(
            (vms) => this.post({ type: 'vms', id: message.id, vms }),
            (error: unknown) =>
              this.post({
                type: 'vms-failed',
                id: message.id,
                message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
              }),
          );
          break;
        case 'outcome':
          this.options.onOutcome(message.outcome);
          break;
        case 'error':
          this.options.onError(new Error(message.message));
          break;
        case 'stopped':
          finished();
          break;
      }
    });
    worker.on('error', (error) => {
      failed(error);
      this.options.onError(error);
    });
    worker.on('exit', (code) => {
      failed(new Error(`the scheduler thread exited (${code}) before it was ready`));
      // Nothing is lost (the queue is durable), but nothing more gets scheduled: say so loudly.
      if (!this.stopping)
        this.options.onError(new Error(`the scheduler thread exited with ${code}; restart bcs`));
      finished();
    });
    await started;
  }

  wake(): void {
    this.post({ type: 'wake' });
  }

  setAlgorithm(name: string, params: Partial<AlgorithmParams>): void {
    this.post({ type: 'set-algorithm', name, params });
  }

  /** Lets the batch in flight commit, then ends the thread. */
  async stop(): Promise<void> {
    if (!this.worker) return;
    this.stopping = true;
    this.post({ type: 'stop' });
    await this.stopped;
    await this.worker.terminate();
    this.worker = null;
  }

  private post(message: ToWorker): void {
    this.worker?.postMessage(message);
  }
}
