import { SchedulerError, ValidationError } from '../errors';
import type { Dimensions } from '../model/resources';
import type { Task } from '../model/task';
import type { Vm } from '../model/vm';
import { MAX_AMOUNT } from '../schemas/task-input';
import {
  isFeasible,
  isRejection,
  type PlacementAlgorithm,
  type PlacementContext,
  prepareRequest,
  rejectPastDeadline,
} from './algorithm';
import { FleetState } from './fleet-state';
import { formatNumber } from './format';
import { resolveParams } from './params';
import { createAlgorithm } from './registry';
import { rejectionKind } from './rejection-kind';
import type { AlgorithmParams, Decision, RejectionKind, ScheduleOptions } from './types';

export interface SchedulerOptions {
  /** Registry name, e.g. 'best-fit'. */
  algorithm: string;
  params?: Partial<AlgorithmParams>;
  /** Seed for randomised algorithms (p2c). */
  seed?: number;
  /** When given, every FleetState passed to `schedule` must be laid out on exactly these. */
  dimensions?: Dimensions;
}

/**
 * The placement loop, reusable across batches so that stateful algorithms (round-robin's cursor,
 * p2c's PRNG) carry on from one batch to the next.
 *
 * Decisions come back in the order they were made: the algorithm's `order` if it has one (blockchain
 * by urgency, urgency by deadline), input order otherwise. That is also the order of the
 * reservations, so each decision's `before` is the previous same-VM decision's `after`, and the
 * ledger can record them as they come. Every task gets exactly one decision.
 */
export class Scheduler {
  private algorithmName: string;
  private currentParams: AlgorithmParams;
  private instance: PlacementAlgorithm;
  private readonly seed: number | undefined;
  private readonly dimensions: Dimensions | undefined;

  constructor(options: SchedulerOptions) {
    this.seed = options.seed;
    this.dimensions = options.dimensions;
    this.currentParams = resolveParams(options.params);
    this.instance = createAlgorithm(options.algorithm, this.currentParams, this.seed);
    this.algorithmName = options.algorithm;
  }

  get algorithm(): string {
    return this.algorithmName;
  }

  get params(): AlgorithmParams {
    return { ...this.currentParams };
  }

  /**
   * Switches to a fresh instance of `name`. `params` are applied over the current ones (omitted
   * fields keep their value). Validates everything first: on error nothing changes.
   */
  setAlgorithm(name: string, params?: Partial<AlgorithmParams>): void {
    // Fields given as undefined keep their current value too, rather than falling back to the default.
    const given = Object.fromEntries(Object.entries(params ?? {}).filter(([, v]) => v !== undefined));
    const merged = resolveParams({ ...this.currentParams, ...given });
    const instance = createAlgorithm(name, merged, this.seed);
    this.instance = instance;
    this.currentParams = merged;
    this.algorithmName = name;
  }

  /** Decides every task against `fleet`, reserving each placement in it. `now` is epoch ms. */
  schedule(tasks: readonly Task[], fleet: FleetState, now: number): Decision[] {
    if (!Number.isFinite(now))
      throw new ValidationError([{ field: 'now', message: 'must be a finite epoch ms' }]);
    if (this.dimensions && !sameDimensions(this.dimensions, fleet.dimensions)) {
      throw new SchedulerError(
        `fleet dimensions (${fleet.dimensions.join(', ')}) differ from the scheduler's (${this.dimensions.join(', ')})`,
      );
    }
    const unknownWeights = Object.keys(this.currentParams.weights ?? {}).filter(
      (d) => !fleet.dimensions.includes(d),
    );
    if (unknownWeights.length > 0) {
      // A misspelt dimension would otherwise be ignored without a word.
      throw new ValidationError(
        unknownWeights.map((d) => ({
          field: `params.weights.${d}`,
          message: `not a scheduled dimension (${fleet.dimensions.join(', ')})`,
        })),
        'invalid algorithm parameters',
      );
    }
    const ctx: PlacementContext = { now, params: this.currentParams };
    const ordered = this.instance.order ? this.instance.order(tasks, ctx) : tasks;
    if (!isPermutation(ordered, tasks)) {
      throw new SchedulerError(
        `algorithm ${this.algorithmName} ordered the batch into a different set of tasks`,
      );
    }
    const decisions: Decision[] = new Array(ordered.length);
    for (let t = 0; t < ordered.length; t++) decisions[t] = this.decide(ordered[t]!, fleet, ctx);
    return decisions;
  }

  private decide(task: Task, fleet: FleetState, ctx: PlacementContext): Decision {
    const problem = requirementProblem(task, fleet.dimensions);
    if (problem) return rejected(task, problem, 'never-fits');
    // Checked here, once, for every algorithm: a task whose deadline has passed can never be placed.
    const overdue = rejectPastDeadline(task, ctx.now);
    if (overdue) return rejected(task, overdue.reason, 'deadline');
    const request = prepareRequest(task, fleet);
    if (request.deviceProblem !== undefined) {
      return rejected(task, request.deviceProblem, rejectionKind(fleet, request));
    }
    const selection = this.instance.select(request, fleet, ctx);
    if (isRejection(selection)) {
      const kind = selection.kind ?? rejectionKind(fleet, request);
      return rejected(task, selection.reason || 'rejected', kind);
    }
    const { index, score, reason } = selection;
    // A broken algorithm must fail loudly, never overcommit a VM or write a non-finite score to the ledger.
    if (!Number.isInteger(index) || index >= fleet.size || !isFeasible(fleet, index, request)) {
      throw new SchedulerError(
        `algorithm ${this.algorithmName} chose infeasible VM index ${index} for ${task.id}`,
      );
    }
    if (!Number.isFinite(score)) {
      throw new SchedulerError(`algorithm ${this.algorithmName} scored ${task.id} with ${score}`);
    }
    let devices: number[] | undefined;
    if (request.gpu !== null) {
      const gpu = request.gpu;
      devices = selection.devices ?? fleet.devices!.choose(index, gpu) ?? undefined;
      if (devices === undefined || !fleet.devices!.validChoice(index, gpu, devices)) {
        throw new SchedulerError(
          `algorithm ${this.algorithmName} chose GPU devices [${devices?.join(', ') ?? ''}] of VM ${fleet.ids[index]} that cannot hold ${task.id}`,
        );
      }
    }
    const before = fleet.snapshot(index);
    fleet.reserveDemand(index, request.demand);
    if (devices !== undefined) fleet.devices!.reserve(index, devices, request.gpu!.milli);
    return {
      task,
      status: 'assigned',
      vmId: fleet.ids[index]!,
      score,
      reason,
      ...(devices === undefined ? {} : { devices }),
      before,
      after: fleet.snapshot(index),
    };
  }
}

/**
 * Decides a batch without side effects: the VMs are copied into a FleetState, `vms` is not touched.
 * One fresh algorithm instance per call, so the same inputs and seed give the same decisions.
 * Decisions are in decision order (see Scheduler).
 */
export function scheduleBatch(
  tasks: readonly Task[],
  vms: readonly Vm[],
  algorithm: string,
  options: ScheduleOptions,
): Decision[] {
  const params = resolveParams(options.params);
  const dimensions = options.dimensions ?? defaultDimensions(tasks, vms);
  const scheduler = new Scheduler({ algorithm, params, seed: options.seed });
  return scheduler.schedule(tasks, FleetState.from(vms, dimensions, params.historyWindow), options.now);
}

function defaultDimensions(tasks: readonly Task[], vms: readonly Vm[]): Dimensions {
  if (vms.length > 0) return Object.keys(vms[0]!.capacity);
  return [...new Set(tasks.flatMap((t) => Object.keys(t.requirements)))];
}

/** A requirement that cannot be scheduled at all: not an amount in [0, MAX_AMOUNT], or on a dimension the fleet lacks. */
function requirementProblem(task: Task, dimensions: Dimensions): string | null {
  for (const [dim, value] of Object.entries(task.requirements)) {
    if (typeof value !== 'number' || !(value >= 0 && value <= MAX_AMOUNT)) {
      return `invalid requirement ${dim}: must be a number from 0 to ${MAX_AMOUNT}, got ${String(value)}`;
    }
    if (value > 0 && !dimensions.includes(dim)) {
      return `requires ${dim} ${formatNumber(value)}, a dimension this fleet does not schedule (${dimensions.join(', ')})`;
    }
  }
  return null;
}

function rejected(task: Task, reason: string, rejection: RejectionKind): Decision {
  return { task, status: 'rejected', vmId: null, score: null, reason, rejection, before: null, after: null };
}

function sameDimensions(a: Dimensions, b: Dimensions): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function isPermutation(ordered: readonly Task[], tasks: readonly Task[]): boolean {
  if (ordered === tasks) return true;
  if (ordered.length !== tasks.length) return false;
  const remaining = new Map<Task, number>();
  for (const t of tasks) remaining.set(t, (remaining.get(t) ?? 0) + 1);
  for (const t of ordered) {
    const left = remaining.get(t);
    if (!left) return false;
    remaining.set(t, left - 1);
  }
  return true;
}
