import { SchedulerError } from '../errors';
import { canonicalBytes } from '../ledger/canonical';
import { sha256Hex } from '../ledger/hash';
import type { Task } from '../model/task';
import type { TaskRecord } from '../ports/ledger-store';
import type { Acceptance, AcceptanceClaim, TaskAcceptances } from '../ports/task-acceptances';

/**
 * Acceptance of submitted tasks, shared by the local intake (runtime/intake.ts) and the enqueue
 * function (functions/handlers/enqueue.ts), and the one read model of a task's status that both
 * runtimes answer GET /tasks/{id} from.
 */

/** A task id submitted again with a different body: the request is refused (409), nothing is queued. */
export class TaskConflictError extends SchedulerError {
  override name = 'TaskConflictError';
  constructor(readonly taskIds: readonly string[]) {
    super(
      `task ${taskIds.length === 1 ? 'id' : 'ids'} ${taskIds.join(', ')} ${taskIds.length === 1 ? 'was' : 'were'} ` +
        'already submitted with a different body; an id names one task, so a different task needs a new id',
    );
  }
}

/**
 * SHA-256 (hex) of the canonical task body: the RFC 8785 JSON of what the client determines, with
 * omitted optional fields in their defaults (a resource left out is 0, priority 0, no labels), so a
 * body and the same body with its defaults spelled out are the same task. The acceptance time is not
 * part of it.
 */
export function taskBodySha256(task: Task): string {
  return sha256Hex(
    canonicalBytes({
      id: task.id,
      requirements: task.requirements,
      duration: task.duration,
      deadline: task.deadline,
      priority: task.priority,
      labels: task.labels,
      constraints: task.constraints,
      ...(task.gpuModels === undefined ? {} : { gpu_models: task.gpuModels }),
      ...(task.command === undefined ? {} : { command: task.command }),
    }),
  );
}

/**
 * The first task of each id with its claim, and the ids repeated within the request. A repeat with
 * the same body is listed once as a duplicate; with a different body the whole request is refused.
 */
export function claimsOf(
  tasks: readonly Task[],
  acceptedAt: number,
): { unique: Task[]; claims: AcceptanceClaim[]; repeated: string[] } {
  const byId = new Map<string, AcceptanceClaim>();
  const unique: Task[] = [];
  const repeated = new Set<string>();
  const conflicting = new Set<string>();
  for (const task of tasks) {
    const claim = { task_id: task.id, body_sha256: taskBodySha256(task), accepted_at: acceptedAt };
    const first = byId.get(task.id);
    if (!first) {
      byId.set(task.id, claim);
      unique.push(task);
    } else if (first.body_sha256 === claim.body_sha256) repeated.add(task.id);
    else conflicting.add(task.id);
  }
  if (conflicting.size > 0) throw new TaskConflictError([...conflicting]);
  return { unique, claims: [...byId.values()], repeated: [...repeated] };
}

export interface SendOutcome {
  /** Ids that reached the queue (or were already in it). */
  sent: string[];
  /** Ids the queue refused, with its reason. */
  failed: { id: string; reason: string }[];
}

export interface AcceptOutcome extends SendOutcome {
  /** Ids this request queued, in request order. */
  accepted: string[];
  /** Ids already accepted with the same body, and ids repeated within the request (each once). */
  duplicates: string[];
}

export interface AcceptDeps {
  acceptances: TaskAcceptances;
  /** Puts the tasks on the queue. May throw (nothing known about what reached it). */
  send: (tasks: Task[]) => Promise<SendOutcome>;
  /** Epoch ms, recorded on new claims. */
  now: number;
}

/**
 * Accepts a validated submission:
 * 1. twins within the request: same body, a duplicate; different body, TaskConflictError;
 * 2. one conditional write per id (claim): an id already claimed with another body refuses the
 *    whole request with TaskConflictError after releasing this request's own new claims, so a refused
 *    request leaves nothing behind; with the same body it is a duplicate when its task was queued,
 *    and queued again when the request that claimed it failed before queueing it;
 * 3. the rest is sent, and what reached the queue is marked queued.
 * The caller answers 202 only when nothing failed. A send that throws leaves this request's claims
 * unqueued: a resubmission with the same body queues them (the ledger records a task id once).
 */
export async function acceptTasks(tasks: readonly Task[], deps: AcceptDeps): Promise<AcceptOutcome> {
  const { unique, claims, repeated } = claimsOf(tasks, deps.now);
  if (unique.length === 0) return { accepted: [], duplicates: repeated, sent: [], failed: [] };
  const existing = await deps.acceptances.claim(claims);
  const conflicts = claims.filter((c) => {
    const found = existing.get(c.task_id);
    return found !== undefined && found.body_sha256 !== c.body_sha256;
  });
  if (conflicts.length > 0) {
    await deps.acceptances.release(claims.filter((c) => !existing.has(c.task_id)));
    throw new TaskConflictError(conflicts.map((c) => c.task_id));
  }
  const queued = new Set(claims.filter((c) => existing.get(c.task_id)?.queued).map((c) => c.task_id));
  const toSend = unique.filter((t) => !queued.has(t.id));
  const outcome = toSend.length > 0 ? await deps.send(toSend) : { sent: [], failed: [] };
  const sent = new Set(outcome.sent);
  // A resent claim keeps the time it was first accepted.
  await deps.acceptances.markQueued(
    claims.filter((c) => sent.has(c.task_id)).map((c) => existing.get(c.task_id) ?? c),
  );
  return {
    accepted: toSend.filter((t) => sent.has(t.id)).map((t) => t.id),
    duplicates: [...new Set([...queued, ...repeated])],
    sent: outcome.sent,
    failed: outcome.failed,
  };
}

/** GET /tasks/{id}, both runtimes. */
export interface TaskStatusView {
  task_id: string;
  status: 'queued' | TaskRecord['status'];
  vm_id: string | null;
  block_height: number | null;
  transaction_id: string | null;
  reason: string | null;
}

/**
 * The one read model of a task's status: the ledger's record once it holds one (assigned, rejected,
 * completed, expired), `queued` while only the intake's record says it reached the queue, and null
 * (404) for an id never accepted, or claimed by a request that has not (yet) queued it.
 */
export async function readTaskStatus(
  taskId: string,
  sources: {
    ledger: (taskId: string) => Promise<TaskStatusView | null>;
    acceptances: Pick<TaskAcceptances, 'get'>;
  },
): Promise<TaskStatusView | null> {
  const recorded = await sources.ledger(taskId);
  if (recorded) return recorded;
  const accepted: Acceptance | null = await sources.acceptances.get(taskId);
  if (!accepted?.queued) return null;
  // The scheduler may have recorded it between the two reads.
  return (
    (await sources.ledger(taskId)) ?? {
      task_id: taskId,
      status: 'queued',
      vm_id: null,
      block_height: null,
      transaction_id: null,
      reason: null,
    }
  );
}
