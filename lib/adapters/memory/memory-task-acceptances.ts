import type { Acceptance, AcceptanceClaim, TaskAcceptances } from '../../ports/task-acceptances';

/** Acceptance records in a Map: tests and the simulator. */
export class MemoryTaskAcceptances implements TaskAcceptances {
  private readonly records = new Map<string, Acceptance>();

  async claim(claims: readonly AcceptanceClaim[]): Promise<Map<string, Acceptance>> {
    const existing = new Map<string, Acceptance>();
    for (const c of claims) {
      const found = this.records.get(c.task_id);
      if (found) existing.set(c.task_id, { ...found });
      else this.records.set(c.task_id, { ...c, queued: false });
    }
    return existing;
  }

  async markQueued(claims: readonly AcceptanceClaim[]): Promise<void> {
    for (const c of claims) {
      this.records.set(c.task_id, {
        task_id: c.task_id,
        body_sha256: c.body_sha256,
        accepted_at: c.accepted_at,
        queued: true,
      });
    }
  }

  async release(claims: readonly AcceptanceClaim[]): Promise<void> {
    for (const c of claims) {
      const found = this.records.get(c.task_id);
      if (found && !found.queued && found.body_sha256 === c.body_sha256) this.records.delete(c.task_id);
    }
  }

  async get(taskId: string): Promise<Acceptance | null> {
    const found = this.records.get(taskId);
    return found ? { ...found } : null;
  }
}
