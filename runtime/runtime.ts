import type { DeadLetter } from '../lib/adapters/sqlite/sqlite-task-queue';
import type { Checkpointer } from '../lib/engine/checkpointer';
import { settleCompletions } from '../lib/engine/completions';
import { ledgerDevices } from '../lib/engine/fleet-merge';
import { LedgerReader } from '../lib/engine/ledger-reader';
import { readTaskStatus } from '../lib/engine/task-intake';
import type { CloseOutcome, Engine, ScheduleOutcome } from '../lib/engine/types';
import {
  LimitExceededError,
  NotFoundError,
  parseOrThrow,
  QueueFullError,
  ValidationError,
} from '../lib/errors';
import type { TaskOutcome, Transaction } from '../lib/ledger/types';
import { UNITS } from '../lib/model/resources';
import type { Vm } from '../lib/model/vm';
import type { Clock } from '../lib/ports/clock';
import type { QuarantinedVm } from '../lib/ports/fleet-source';
import type { LedgerStore } from '../lib/ports/ledger-store';
import type { TaskAcceptances } from '../lib/ports/task-acceptances';
import type { TaskQueue } from '../lib/ports/task-queue';
import { fleetPage } from '../lib/scaling/fleet-page';
import { GPU_DIMENSION } from '../lib/scheduling/devices';
import { admitFleet } from '../lib/scheduling/quarantine';
import { type AlgorithmParams, DEFAULT_PARAMS } from '../lib/scheduling/types';
import type { RuntimeConfig } from '../lib/schemas/config';
import { DEFAULT_CAPACITY, DEFAULT_GENERATOR, wholeGpusProblem } from '../lib/schemas/config';
import {
  type AutoscaleResponse,
  addVmsSchema,
  algorithmChangeSchema,
  type CompleteResponse,
  type ConfigResponse,
  type DeadLettersResponse,
  type DecisionEventItem,
  type FleetQuery,
  type FleetResponse,
  type LedgerSummaryResponse,
  type MetricsEvent,
  type QueueResponse,
  type SnapshotEvent,
  type TaskStatusResponse,
} from '../lib/schemas/http';
import { completeBody, decisionItem, vmBody } from '../lib/schemas/views';
import type { Random } from '../lib/simulation/rng';
import type { DigestSigning } from './digest-signing';
import { EventHub } from './events/hub';
import { AssignmentFeed } from './fleet/assignment-feed';
import { Autoscaler, policyOptions } from './fleet/autoscaler';
import type { SimulatedFleet, VmManagement } from './fleet/simulated-fleet';
import { TaskGenerator } from './generator';
import { Intake } from './intake';
import { RuntimeMetrics } from './metrics';
import { SchedulerLoop } from './scheduler-loop';
import { createSerial, type Serial } from './serial';

/** The local queue's extras. */
export interface LocalTaskQueue extends TaskQueue {
  /** Makes tasks a previous process held (killed mid-batch) visible at once instead of after their timeout. */
  releaseInFlight?(): Promise<number>;
  /** Rows taken out of circulation (unreadable as a task), oldest first: GET /queue/dead-letters. */
  deadLetters?(limit: number): Promise<DeadLetter[]>;
  deadLetterCount?(): Promise<number>;
}

/** The engine port, plus batch completion where the engine offers it (one commit for many tasks). */
export type LocalEngine = Engine & {
  completeMany?(taskIds: string[], outcomes?: readonly (TaskOutcome | undefined)[]): Promise<CloseOutcome[]>;
};

/** SHA-256 of no bytes: the output of a simulated run. */
const EMPTY_OUTPUT_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** What drains the queue into the engine: an in-process SchedulerLoop, or the scheduler thread. */
export interface BatchScheduler {
  start(): void | Promise<void>;
  wake(): void;
  stop(): Promise<void>;
  setAlgorithm?(name: string, params: Partial<AlgorithmParams>): void;
}

export interface SchedulerHooks {
  onOutcome: (outcome: ScheduleOutcome) => void;
  onError: (error: unknown) => void;
}

export interface RuntimeParts {
  /** Builds the batch scheduler; default: a SchedulerLoop on `engine` in this thread. */
  scheduler?: (hooks: SchedulerHooks) => BatchScheduler;
  config: RuntimeConfig;
  store: LedgerStore;
  queue: LocalTaskQueue;
  /** The intake's acceptance records (lib/ports/task-acceptances.ts), in the ledger's file. */
  acceptances: TaskAcceptances;
  engine: LocalEngine;
  fleet: SimulatedFleet;
  clock: Clock;
  random: Random;
  /** Registered algorithm names. */
  algorithms: readonly string[];
  log: (message: string) => void;
  /** Signs head digests on an interval and on request (runtime/digest-signing.ts); omitted, none are signed. */
  digestSigning?: DigestSigning;
  /** Publishes signed checkpoints and serves the log's keys (lib/engine/checkpointer.ts); omitted, none. */
  tlog?: TlogPublishing;
}

/** The local runtime's transparency log: its checkpointer and the verifier keys of its note signatures. */
export interface TlogPublishing {
  checkpointer: Checkpointer;
  /** ECDSA P-256 (type 0x02) first, then Ed25519 (type 0x01). */
  verifierKeys: string[];
}

const HUB_FLUSH_MS = 250;
const SAMPLE_MS = 1000;
const GENERATOR_TICK_MS = 100;
const LEASE_SWEEP_MS = 5000;
const EXPIRE_BATCH = 500;
const COMPLETE_BATCH = 500;
/** Pause before finished tasks whose completion failed to commit are offered again. */
const COMPLETE_RETRY_MS = 250;
const DIGEST_SIGN_MS = 60_000;

/**
 * The local runtime: intake, scheduler loop, simulated fleet, lease expiry and live events around
 * one engine and one SQLite file. The HTTP routes call the methods here.
 */
export class LocalRuntime {
  readonly hub = new EventHub();
  readonly intake: Intake;
  readonly generator: TaskGenerator;
  readonly metrics: RuntimeMetrics;
  /** Per-VM counts, block hashes and the digest, followed block by block (lib/engine/ledger-reader.ts). */
  readonly ledger: LedgerReader;
  /** Open assignments of agent-managed VMs: GET /vms/{id}/assignments (docs/agent.md). */
  readonly assignments: AssignmentFeed;
  readonly serial: Serial = createSerial();
  /** Grows and shrinks the simulated fleet on backlog per VM; null unless `autoscale.enabled`. */
  readonly autoscaler: Autoscaler | null;
  private readonly scheduler: BatchScheduler;
  private algorithm: string;
  private params: AlgorithmParams;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** The VMs the last batch left out, by id, with the reason (for the log line on change). */
  private quarantined = new Map<string, string>();

  constructor(private readonly parts: RuntimeParts) {
    const { config, store, queue, engine, clock, random } = parts;
    this.ledger = new LedgerReader(store, { pageSize: 500 });
    this.assignments = new AssignmentFeed(store);
    this.algorithm = config.algorithm;
    this.params = { ...DEFAULT_PARAMS, ...stripUndefined(config.params) };
    this.metrics = new RuntimeMetrics(config.dimensions, clock.now());
    this.autoscaler = config.autoscale.enabled
      ? new Autoscaler({
          fleet: parts.fleet,
          dimensions: config.dimensions,
          ledgerTasks: async () =>
            new Map((await store.getReservations()).map((r) => [r.vm_id, r.active_tasks])),
          backlog: () => queue.depth(),
          clock,
          policy: policyOptions(config.autoscale),
          onEvent: (event) => {
            parts.log(`autoscale: ${event.action} ${event.vm_ids.join(' ')} (${event.reason})`);
            this.hub.publish('scaling', event);
          },
        })
      : null;
    this.intake = new Intake({
      queue,
      acceptances: parts.acceptances,
      clock,
      dimensions: config.dimensions,
      maxQueueDepth: config.max_queue_depth,
      onEnqueued: () => this.scheduler.wake(),
    });
    const hooks: SchedulerHooks = {
      onOutcome: (outcome) => this.onScheduled(outcome),
      onError: (error) => parts.log(`scheduler: ${describe(error)}`),
    };
    this.scheduler = parts.scheduler
      ? parts.scheduler(hooks)
      : new SchedulerLoop({ queue, engine, serial: this.serial, batchSize: config.batch_size, ...hooks });
    this.generator = new TaskGenerator({
      dimensions: config.dimensions,
      referenceCapacity: this.defaultCapacity(),
      clock,
      random,
      settings: { ...DEFAULT_GENERATOR, ...stripUndefined(config.generator) },
      runId: clock.now().toString(36),
      submit: async (tasks) => {
        try {
          return (await this.intake.submit(tasks)).accepted.length;
        } catch (error) {
          if (error instanceof QueueFullError) return 0;
          throw error;
        }
      },
    });
  }

  get config(): RuntimeConfig {
    return this.parts.config;
  }

  get store(): LedgerStore {
    return this.parts.store;
  }

  get digestSigning(): DigestSigning | undefined {
    return this.parts.digestSigning;
  }

  get tlog(): TlogPublishing | undefined {
    return this.parts.tlog;
  }

  /** Catches up with the chain on disk, brings back the VMs that still run tasks, starts the loops. */
  async start(): Promise<void> {
    const { store, fleet, config } = this.parts;
    await this.ledger.refresh();
    if (fleet.size === 0 && config.fleet.size > 0) fleet.addVms(config.fleet.size);
    for (const r of await store.getReservations()) {
      if (r.active_tasks > 0 && !fleet.has(r.vm_id)) fleet.addVm(r.vm_id, r.capacity, {}, 'draining');
    }
    // Every assigned task: a lease "expiring" before the end of time is every open lease.
    for (const t of await store.listExpiredLeases(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) {
      if (t.vm_id !== null) fleet.start(t.task_id, t.vm_id, t.requirements, t.duration, t.updated_at);
    }
    // This process is the queue's only consumer, so whatever is in flight belonged to a dead one.
    const released = (await this.parts.queue.releaseInFlight?.()) ?? 0;
    if (released > 0) this.parts.log(`redelivering ${released} tasks a previous run had received`);
    await this.scheduler.start();
    this.every(HUB_FLUSH_MS, 'hub', async () => this.hub.flush());
    this.every(config.fleet.tick_ms, 'fleet', () => this.finishTasks());
    this.every(SAMPLE_MS, 'sample', () => this.sample());
    this.generator.resetClock();
    this.every(GENERATOR_TICK_MS, 'generator', () => this.generator.tick().then(() => undefined));
    this.every(LEASE_SWEEP_MS, 'leases', () => this.expireLeases());
    const signing = this.parts.digestSigning;
    if (signing) this.every(DIGEST_SIGN_MS, 'digest', async () => void (await signing.signIfMoved()));
    const tlog = this.parts.tlog;
    if (tlog)
      this.every(
        config.checkpoint_interval_ms,
        'checkpoint',
        async () => void (await tlog.checkpointer.publish()),
      );
    const { autoscaler } = this;
    if (autoscaler)
      this.every(config.autoscale.tick_ms, 'autoscale', async () => void (await autoscaler.tick()));
  }

  /** Stops taking work, lets the batch in flight commit, and closes the store. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.scheduler.stop();
    await Promise.allSettled([...this.inFlight]);
    await this.serial(async () => undefined);
    await this.parts.store.close();
  }

  // ---------- views ----------

  configView(): ConfigResponse {
    const { config, algorithms, fleet } = this.parts;
    const units: Record<string, string> = {};
    for (const d of config.dimensions) units[d] = (UNITS as Record<string, string>)[d] ?? '';
    return {
      dimensions: [...config.dimensions],
      units,
      algorithm: this.algorithm,
      algorithms: [...algorithms],
      params: { ...this.params },
      block_size: config.block_size,
      batch_size: config.batch_size,
      fleet: { size: fleet.size, capacity: this.defaultCapacity(), speed: config.fleet.speed },
      autoscale: { ...config.autoscale },
    };
  }

  /** The simulated VMs with the ledger's reservations (authoritative) merged in. */
  async vms(): Promise<Vm[]> {
    const reservations = new Map((await this.parts.store.getReservations()).map((r) => [r.vm_id, r]));
    return this.parts.fleet.snapshot().map((vm) => {
      const r = reservations.get(vm.id);
      // GPU devices show what the ledger holds on each, as the engine sees them (lib/engine/fleet-merge.ts).
      const withDevices = vm.gpus === undefined ? vm : { ...vm, gpus: ledgerDevices(vm.gpus, r) };
      return r
        ? { ...withDevices, reserved: { ...vm.reserved, ...r.reserved }, activeTasks: r.active_tasks }
        : withDevices;
    });
  }

  autoscaleView(): AutoscaleResponse {
    return { settings: { ...this.parts.config.autoscale }, status: this.autoscaler?.status() ?? null };
  }

  /**
   * GET /fleet: a page of VMs in id order, each quarantined one saying why. The quarantine is the
   * engine's own check (lib/scheduling/quarantine.ts) on the VMs as they stand, so it shows whether or
   * not a batch has run since.
   */
  async fleetView(query: Partial<FleetQuery> = {}): Promise<FleetResponse> {
    return this.fleetPage(await this.vms(), query);
  }

  /** fleetView on VMs already read (the once-a-second sample reads them for the metrics too). */
  private fleetPage(all: Vm[], query: Partial<FleetQuery> = {}): FleetResponse {
    const quarantine = this.quarantineOf(all);
    const { page, total, next } = fleetPage(all, query);
    return {
      vms: page.map((vm) => vmBody(vm, quarantine.get(vm.id))),
      total,
      quarantined: quarantine.size,
      next,
    };
  }

  /** Quarantined VMs by id, with the reason: the engine's check on `vms` (ledger reservations merged). */
  private quarantineOf(vms: readonly Vm[]): Map<string, string> {
    const { quarantined } = admitFleet(vms, this.parts.config.dimensions, this.params.historyWindow);
    return new Map(quarantined.map((q) => [q.vm_id, q.reason]));
  }

  /** GET /queue. */
  async queueView(): Promise<QueueResponse> {
    return {
      depth: await this.intake.depth(),
      dead_letters: (await this.parts.queue.deadLetterCount?.()) ?? 0,
    };
  }

  /** GET /queue/dead-letters: rows the queue could not read back as a task, oldest first. */
  async deadLettersView(limit: number): Promise<DeadLettersResponse> {
    const { queue } = this.parts;
    const rows = (await queue.deadLetters?.(limit)) ?? [];
    return {
      total: (await queue.deadLetterCount?.()) ?? 0,
      items: rows.map((r) => ({
        task_id: r.task_id,
        task: r.task,
        attempts: r.attempts,
        error: r.error,
        failed_at: new Date(r.failed_at).toISOString(),
      })),
    };
  }

  ledgerSummary(): Promise<LedgerSummaryResponse> {
    return this.ledger.summary();
  }

  async taskStatus(taskId: string): Promise<TaskStatusResponse | null> {
    return readTaskStatus(taskId, {
      ledger: (id) => this.ledger.task(id),
      acceptances: this.parts.acceptances,
    });
  }

  // ---------- commands ----------

  /**
   * Records how an assigned task ended (completed, or failed by `reported`); null when the task is
   * unknown. Settled directly (this process is the only writer), through the same settlement as the
   * AWS lease closer's queue.
   */
  async complete(taskId: string, reported?: TaskOutcome): Promise<CompleteResponse | null> {
    const [outcome] = await this.serial(() =>
      settleCompletions(this.parts.engine, [
        { task_id: taskId, body: reported ? { outcome: reported } : {} },
      ]),
    );
    if (!outcome) throw new Error('the settlement returned no outcome');
    if (outcome.status === 'unknown') return null;
    this.parts.fleet.stop(taskId);
    if (outcome.status === 'closed') {
      this.hub.addDecisions([decisionItem(outcome.transaction, outcome.head.height)]);
    }
    return completeBody(taskId, outcome);
  }

  setAlgorithm(body: unknown): ConfigResponse {
    const change = parseOrThrow(
      algorithmChangeSchema(this.parts.algorithms),
      body,
      'invalid algorithm change',
    );
    const params = { ...this.params, ...stripUndefined(change.params ?? {}) };
    // The scheduler refuses weights for dimensions it does not schedule (lib/scheduling/schedule.ts)
    // on every batch; refuse them here instead, so the API accepts nothing the engine refuses later.
    const dimensions = this.parts.config.dimensions;
    const unknown = Object.keys(change.params?.weights ?? {}).filter((d) => !dimensions.includes(d));
    if (unknown.length > 0) {
      throw new ValidationError(
        unknown.map((d) => ({
          field: `params.weights.${d}`,
          message: `not a scheduled dimension (${dimensions.join(', ')})`,
        })),
        'invalid algorithm change',
      );
    }
    this.parts.engine.setAlgorithm(change.algorithm, params);
    this.scheduler.setAlgorithm?.(change.algorithm, params);
    this.algorithm = change.algorithm;
    this.params = params;
    return this.configView();
  }

  addVms(body: unknown): string[] {
    const { config, fleet } = this.parts;
    const request = parseOrThrow(addVmsSchema(config.dimensions), body, 'invalid VM request');
    if (fleet.size + request.count > config.max_fleet_size) {
      throw new LimitExceededError(
        'max_fleet_size',
        config.max_fleet_size,
        'count',
        `the fleet holds ${fleet.size} VMs; adding ${request.count} would pass max_fleet_size (${config.max_fleet_size})`,
      );
    }
    const gpuModel = request.gpu_model ?? config.fleet.gpu_model;
    if (gpuModel !== undefined) {
      if (!config.dimensions.includes(GPU_DIMENSION)) {
        throw new ValidationError(
          [{ field: 'gpu_model', message: 'needs the gpu dimension, which this runtime does not schedule' }],
          'invalid VM request',
        );
      }
      const problem = wholeGpusProblem(request.capacity?.gpu ?? this.defaultCapacity().gpu ?? 0);
      if (problem !== null) {
        throw new ValidationError([{ field: 'capacity.gpu', message: problem }], 'invalid VM request');
      }
    }
    return this.parts.fleet.addVms(
      request.count,
      request.capacity ?? {},
      request.labels ?? {},
      request.managed,
      gpuModel,
    );
  }

  /** Who finishes the VM's tasks; null for an unknown VM. */
  managedBy(vmId: string): VmManagement | null {
    return this.parts.fleet.managedBy(vmId);
  }

  drain(vmId: string): void {
    if (!this.parts.fleet.drain(vmId)) throw new NotFoundError(`no VM ${vmId}`);
  }

  /** What a dashboard needs on connect, before the live events. */
  async snapshot(): Promise<SnapshotEvent> {
    const queueDepth = await this.intake.depth();
    return {
      config: this.configView(),
      ledger: await this.ledgerSummary(),
      fleet: await this.fleetView(),
      queue_depth: queueDepth,
      dead_letters: (await this.parts.queue.deadLetterCount?.()) ?? 0,
      metrics: this.metricsEvent(queueDepth, this.parts.clock.now()),
    };
  }

  /** The metrics snapshot, with the autoscaler's state while it runs. */
  metricsEvent(queueDepth: number, now: number): MetricsEvent {
    const event = this.metrics.event(this.algorithm, queueDepth, now);
    return this.autoscaler ? { ...event, autoscale: this.autoscaler.status() } : event;
  }

  async queueDepth(): Promise<number> {
    return this.intake.depth();
  }

  // ---------- loops ----------

  private onScheduled(outcome: ScheduleOutcome): void {
    const { fleet, clock } = this.parts;
    if (outcome.quarantined) this.noteQuarantine(outcome.quarantined);
    const now = clock.now();
    for (const d of outcome.decisions) {
      if (d.status !== 'assigned' || d.vmId === null) continue;
      // Decided on a listing taken before the VM left: it comes back, draining, to run the task.
      if (!fleet.has(d.vmId) && fleet.revive(d.vmId)) this.parts.log(`${d.vmId} back to run ${d.task.id}`);
      fleet.start(d.task.id, d.vmId, d.task.requirements, d.task.duration, now);
    }
    this.assignments.record(outcome, (vmId) => fleet.managedBy(vmId) === 'agent');
    this.metrics.recordDecisions(this.algorithm, outcome.decisions, now);
    for (const block of outcome.blocks) {
      this.ledger.add(block);
      this.hub.addBlock({
        height: block.height,
        hash: block.block_hash,
        transaction_count: block.transaction_count,
        timestamp: block.timestamp,
      });
      if (this.hub.subscriberCount > 0) {
        this.hub.addDecisions(block.transactions.map((tx) => decisionItem(tx, block.height)));
      }
    }
  }

  /** One log line when a VM enters or leaves quarantine (not one per batch). */
  private noteQuarantine(now: readonly QuarantinedVm[]): void {
    const current = new Map(now.map((q) => [q.vm_id, q.reason]));
    for (const [id, reason] of current) {
      if (this.quarantined.get(id) !== reason) this.parts.log(`quarantined ${id}: ${reason}`);
    }
    for (const id of this.quarantined.keys()) {
      if (!current.has(id)) this.parts.log(`${id} out of quarantine`);
    }
    this.quarantined = current;
  }

  /** Tasks whose simulated run time is over are completed in the ledger, a batch per commit. */
  private async finishTasks(): Promise<void> {
    const { fleet, clock, engine } = this.parts;
    const finished = fleet.tick(clock.now());
    // A simulated run always succeeds, prints nothing, and ran from its start to now.
    const now = clock.now();
    const outcomeOf = (taskId: string): TaskOutcome => ({
      exit_code: 0,
      signal: null,
      duration_ms: Math.max(0, Math.round(now - (fleet.startedAt(taskId) ?? now))),
      output_sha256: EMPTY_OUTPUT_SHA256,
    });
    const completeMany = engine.completeMany?.bind(engine);
    if (!completeMany) {
      for (let i = 0; i < finished.length; i++) {
        try {
          await this.complete(finished[i]!, outcomeOf(finished[i]!));
        } catch (error) {
          fleet.finishAgain(finished.slice(i), clock.now() + COMPLETE_RETRY_MS);
          throw error;
        }
      }
      return;
    }
    for (let i = 0; i < finished.length; i += COMPLETE_BATCH) {
      const ids = finished.slice(i, i + COMPLETE_BATCH);
      const reported = ids.map(outcomeOf);
      let outcomes: Awaited<ReturnType<typeof completeMany>>;
      try {
        outcomes = await this.serial(() => completeMany(ids, reported));
      } catch (error) {
        // The scheduler thread appends to the same chain, so at saturation a completion can lose the
        // head race more times than the engine retries. The tasks did finish: offer this batch and the
        // rest again on a later tick instead of leaving them to lease expiry (recorded as expired).
        fleet.finishAgain(finished.slice(i), clock.now() + COMPLETE_RETRY_MS);
        throw error;
      }
      const items: DecisionEventItem[] = [];
      ids.forEach((id, k) => {
        fleet.stop(id);
        const outcome = outcomes[k];
        if (outcome?.status === 'closed') items.push(decisionItem(outcome.transaction, outcome.head.height));
      });
      this.hub.addDecisions(items);
    }
  }

  private async expireLeases(): Promise<void> {
    const { engine, store, fleet } = this.parts;
    const expired: Transaction[] = await this.serial(() => engine.expireLeases(EXPIRE_BATCH));
    const items: DecisionEventItem[] = [];
    for (const tx of expired) {
      fleet.stop(tx.task_id);
      const at = await store.findTransaction(tx.transaction_id);
      items.push(decisionItem(tx, at?.height ?? -1));
    }
    this.hub.addDecisions(items);
  }

  private async sample(): Promise<void> {
    const now = this.parts.clock.now();
    await this.ledger.refresh();
    const vms = await this.vms();
    this.metrics.sample(this.algorithm, vms, now);
    if (this.hub.subscriberCount === 0) return;
    const page = this.fleetPage(vms);
    this.hub.publish('fleet', {
      at: new Date(now).toISOString(),
      vms: page.vms.map(({ labels: _labels, ...body }) => body),
      total: page.total ?? page.vms.length,
    });
    this.hub.publish('metrics', this.metricsEvent(await this.intake.depth(), now));
  }

  /** Runs `work` every `ms`, never two at once for the same name, and logs failures. */
  private every(ms: number, name: string, work: () => Promise<void>): void {
    const timer = setInterval(() => {
      if (this.busy.has(name)) return;
      this.busy.add(name);
      const run = work()
        .catch((error) => this.parts.log(`${name}: ${describe(error)}`))
        .finally(() => {
          this.busy.delete(name);
          this.inFlight.delete(run);
        });
      this.inFlight.add(run);
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private defaultCapacity(): Record<string, number> {
    const { config } = this.parts;
    const capacity: Record<string, number> = {};
    for (const d of config.dimensions) capacity[d] = config.fleet.capacity?.[d] ?? DEFAULT_CAPACITY[d] ?? 0;
    return capacity;
  }
}

/** VM ids in human order: vm-2 before vm-10, so pages follow the names the fleet hands out. */

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
