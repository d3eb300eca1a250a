import { parseOrThrow } from '../lib/errors';
import type { Dimensions, ResourceVector } from '../lib/model/resources';
import type { Task } from '../lib/model/task';
import type { Clock } from '../lib/ports/clock';
import { type GeneratorPatch, type GeneratorSettings, generatorPatchSchema } from '../lib/schemas/http';
import type { Random } from '../lib/simulation/rng';

/** Share of the reference VM's capacity a task asks for, per dimension, by size class. */
const SIZE_FRACTIONS: Record<GeneratorSettings['size'], [number, number]> = {
  small: [0.01, 0.05],
  mixed: [0.01, 0.3],
  large: [0.15, 0.5],
};

export interface GeneratorState extends GeneratorSettings {
  /** Tasks generated (and queued) since the count was last set. */
  generated: number;
  /** Tasks generated but refused because the queue was full: an open-loop workload does not wait. */
  dropped: number;
}

export interface TaskGeneratorOptions {
  dimensions: Dimensions;
  /** Task sizes are drawn relative to this capacity. */
  referenceCapacity: ResourceVector;
  clock: Clock;
  random: Random;
  settings: GeneratorSettings;
  /** Distinguishes ids across restarts, e.g. the start time in base 36. */
  runId: string;
  /** Returns how many of the tasks were taken; the rest were dropped (queue full). */
  submit: (tasks: Task[]) => Promise<number>;
}

/** Longest stretch of time one tick makes up for, seconds. */
const MAX_CATCH_UP_S = 1;

/**
 * The built-in workload: `rate` tasks a second with random sizes, durations and deadline slack,
 * submitted through the same intake as POST /tasks.
 */
export class TaskGenerator {
  private settings: GeneratorSettings;
  private generated = 0;
  private dropped = 0;
  private sequence = 0;
  /** Fractional tasks carried between ticks so that low rates still produce tasks. */
  private carry = 0;
  private lastTick: number;

  constructor(private readonly options: TaskGeneratorOptions) {
    this.settings = { ...options.settings };
    this.lastTick = options.clock.now();
  }

  get state(): GeneratorState {
    return { ...this.settings, generated: this.generated, dropped: this.dropped };
  }

  /** Applies a validated patch (ValidationError naming the field otherwise). */
  update(patch: unknown): GeneratorState {
    const parsed: GeneratorPatch = parseOrThrow(generatorPatchSchema, patch, 'invalid generator settings');
    const next = { ...this.settings };
    for (const [key, value] of Object.entries(parsed)) {
      if (value !== undefined) (next as Record<string, unknown>)[key] = value;
    }
    if (parsed.running === true && !this.settings.running) {
      this.lastTick = this.options.clock.now();
      this.carry = 0;
    }
    if (parsed.count !== undefined || (parsed.running === true && !this.settings.running)) {
      this.generated = 0;
      this.dropped = 0;
    }
    this.settings = next;
    return this.state;
  }

  /** Starts counting elapsed time now, so that the time a runtime took to start is not owed as a burst. */
  resetClock(): void {
    this.lastTick = this.options.clock.now();
    this.carry = 0;
  }

  /** Generates the tasks due since the last tick and submits them in one call. */
  async tick(): Promise<number> {
    const now = this.options.clock.now();
    // At most one second's worth per tick: after a stall (a paused process, a long GC) the generator
    // does not build rate × stall tasks in one array; an open-loop workload drops what it missed.
    const elapsedS = Math.min(MAX_CATCH_UP_S, Math.max(0, (now - this.lastTick) / 1000));
    this.lastTick = now;
    if (!this.settings.running) return 0;
    const due = this.settings.rate * elapsedS + this.carry;
    let n = Math.floor(due);
    this.carry = due - n;
    if (this.settings.count !== null) n = Math.min(n, this.settings.count - this.generated);
    if (n <= 0) {
      if (this.settings.count !== null && this.generated >= this.settings.count)
        this.settings.running = false;
      return 0;
    }
    const tasks = Array.from({ length: n }, () => this.task(now));
    const taken = await this.options.submit(tasks);
    this.generated += taken;
    this.dropped += n - taken;
    if (this.settings.count !== null && this.generated >= this.settings.count) this.settings.running = false;
    return taken;
  }

  private task(now: number): Task {
    const { dimensions, referenceCapacity, random, runId } = this.options;
    const [lo, hi] = SIZE_FRACTIONS[this.settings.size];
    const requirements: ResourceVector = {};
    for (const d of dimensions) {
      const capacity = referenceCapacity[d] ?? 0;
      requirements[d] = capacity > 0 ? Math.round(capacity * random.uniform(lo, hi)) : 0;
    }
    const duration = Math.max(1, Math.round(random.uniform(...this.settings.duration_s)));
    const slack = random.uniform(...this.settings.deadline_slack_s);
    this.sequence += 1;
    return {
      id: `gen-${runId}-${this.sequence}`,
      requirements,
      duration,
      deadline: Math.round(now / 1000 + duration + slack),
      priority: 0,
      submittedAt: now,
      labels: { source: 'generator' },
      constraints: {},
    };
  }
}
