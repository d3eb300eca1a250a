import { describe, expect, it } from 'vitest';
import { fromFeedItem } from '../../../agent/assignment';
import { CommandExecutor, SimulatedExecutor } from '../../../agent/executor';
import {
  commandDocumentContent,
  documentScript,
  GPU_DEVICES_PATTERN,
} from '../../../cdk/lib/constructs/command-document';
import { committedAssignments, taskAssignedEvents } from '../../../lib/dispatch/assignments';
import { commandRequest } from '../../../lib/dispatch/command';
import { decisionsToTransactions } from '../../../lib/engine/transactions';
import type { Vm } from '../../../lib/model/vm';
import type { TaskRecord } from '../../../lib/ports/ledger-store';
import { scheduleBatch } from '../../../lib/scheduling/schedule';
import { buildChain } from '../ledger/helpers/transactions';

/**
 * The GPU devices of an assignment travel from the ledger transaction (docs/ledger-format.md 2.4) to
 * the TaskAssigned event, to the Run Command request (the document's gpuDevices parameter) and to the
 * agent, which runs the command with CUDA_VISIBLE_DEVICES set to them.
 */

const NOW = Date.UTC(2026, 11, 7, 12);
const DIMS = ['cpu', 'mem', 'gpu'] as const;
const vm: Vm = {
  id: 'i-gpu',
  capacity: { cpu: 64_000, mem: 262_144, gpu: 4000 },
  reserved: { cpu: 0, mem: 0, gpu: 0 },
  usage: { cpu: 0, mem: 0, gpu: 0 },
  history: [],
  activeTasks: 0,
  labels: {},
  state: 'active',
  gpus: Array.from({ length: 4 }, () => ({ model: 'A10G', milli: 1000 })),
};
const task = (id: string, gpu: number) => ({
  id,
  requirements: { cpu: 1000, mem: 1024, gpu },
  duration: 600,
  deadline: NOW / 1000 + 3600,
  priority: 0,
  submittedAt: NOW,
  labels: {},
  constraints: {},
  command: 'train',
});

describe('GPU devices from the ledger to the process', () => {
  it('are carried by TaskAssigned and sent to SSM as the gpuDevices parameter', () => {
    const decisions = scheduleBatch([task('share', 300), task('pair', 2000)], [vm], 'best-fit', {
      now: NOW,
      dimensions: DIMS,
    });
    const chain = buildChain(decisionsToTransactions(decisions, 'best-fit', NOW), 5);
    const assignments = committedAssignments(chain);
    expect(assignments.map((a) => [a.taskId, a.devices])).toEqual([
      ['share', [0]],
      ['pair', [1, 2]],
    ]);
    const records = new Map<string, TaskRecord>(
      assignments.map((a) => [
        a.taskId,
        {
          task_id: a.taskId,
          status: 'assigned',
          vm_id: a.vmId,
          block_height: a.blockHeight,
          transaction_id: a.transactionId,
          requirements: {},
          deadline: NOW / 1000 + 3600,
          duration: 600,
          lease_expires_at: NOW + 700_000,
          updated_at: NOW,
        },
      ]),
    );
    const specs = new Map(assignments.map((a) => [a.taskId, { command: 'train', labels: {} }]));
    const { events } = taskAssignedEvents(assignments, records, specs as never);
    expect(events.map((e) => e.devices)).toEqual([[0], [1, 2]]);
    const request = commandRequest(events[1]!, NOW, { train: { run: ['/opt/train'] } });
    expect(request).toMatchObject({ instanceId: 'i-gpu', template: 'train', devices: [1, 2] });
    // The document takes the parameter and exports it before running the template.
    const content = commandDocumentContent(['train']);
    expect(content.parameters.gpuDevices).toMatchObject({ default: '', interpolationType: 'ENV_VAR' });
    const pattern = new RegExp(GPU_DEVICES_PATTERN);
    expect(['', '0', '1,2', '0,1,2,3,4,5,6,7'].every((v) => pattern.test(v))).toBe(true);
    expect(['1;rm', '1, 2', '123', ',1', '$(x)'].some((v) => pattern.test(v))).toBe(false);
    expect(documentScript().join('\n')).toContain('export CUDA_VISIBLE_DEVICES="$SSM_gpuDevices"');
  });

  it('reach the agent from the feed, which runs the command with CUDA_VISIBLE_DEVICES', async () => {
    const assignment = fromFeedItem({
      task_id: 'pair',
      transaction_id: 'x',
      block_height: 1,
      command: 'printf "%s" "$CUDA_VISIBLE_DEVICES"',
      duration: 60,
      lease_expires_at: Date.now() + 60_000,
      devices: [1, 2],
    });
    const executor = new CommandExecutor(new SimulatedExecutor(1));
    const outcome = await executor.run(assignment, { budgetMs: 30_000, abort: new AbortController().signal });
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0, output: '1,2' });
  });
});
