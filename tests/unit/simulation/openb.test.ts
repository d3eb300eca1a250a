import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import {
  GPU_MODEL_LABEL,
  openbWorkload,
  parseOpenbNodes,
  parseOpenbPods,
} from '../../../lib/simulation/openb';
import { SIMULATION_EPOCH_MS } from '../../../lib/simulation/types';

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`fixtures/${name}`, import.meta.url)), 'utf8');
const nodes = parseOpenbNodes(fixture('nodes.csv'), 'nodes.csv');
const pods = parseOpenbPods(fixture('pods.csv'), 'pods.csv');

function errorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('OpenB CSV parsing', () => {
  it('maps nodes to VMs with GPUs in milli-GPU and the model as a label', () => {
    const workload = openbWorkload(nodes, pods, { mode: 'live' });
    expect(workload.dimensions).toEqual(['cpu', 'mem', 'gpu']);
    expect(workload.vms.map((vm) => [vm.id, vm.capacity, vm.labels[GPU_MODEL_LABEL]])).toEqual([
      ['node-a', { cpu: 8000, mem: 32768, gpu: 2000 }, 'T4'],
      ['node-b', { cpu: 8000, mem: 32768, gpu: 1000 }, 'V100M16'],
      ['node-c', { cpu: 4000, mem: 16384, gpu: 0 }, undefined],
    ]);
  });

  it('gives every node one 1000-milli device per GPU, of its model', () => {
    const workload = openbWorkload(nodes, pods, { mode: 'live' });
    expect(workload.vms.map((vm) => vm.gpus)).toEqual([
      [
        { model: 'T4', milli: 1000 },
        { model: 'T4', milli: 1000 },
      ],
      [{ model: 'V100M16', milli: 1000 }],
      [],
    ]);
  });

  it('asks num_gpu x gpu_milli and turns gpu_spec into the allowed GPU models', () => {
    const tasks = openbWorkload(nodes, pods, { mode: 'live' }).arrivals.map((a) => a.task);
    // pod-1: 1 GPU x 500 milli on a T4; pod-2 asks for no GPU; pod-5: 250 milli on a V100M16.
    expect(tasks.map((t) => t.requirements.gpu)).toEqual([1000, 500, 0, 1000, 500, 250]);
    expect(tasks[1]!.gpuModels).toEqual(['T4']);
    expect(tasks[5]!.gpuModels).toEqual(['V100M16']);
    expect(tasks[0]!.gpuModels).toBeUndefined();
    expect(tasks.every((t) => Object.keys(t.constraints).length === 0)).toBe(true);
  });

  it('reads a five-column pod list (the multi-GPU variants) and refuses to replay it live, saying why', () => {
    const text = 'name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,12000,16384,8,1000\nq,4000,8192,1,460\n';
    const fiveColumns = parseOpenbPods(text, 'multigpu.csv');
    expect(fiveColumns).toEqual([
      { name: 'p', cpu_milli: 12000, memory_mib: 16384, num_gpu: 8, gpu_milli: 1000, gpu_spec: '' },
      { name: 'q', cpu_milli: 4000, memory_mib: 8192, num_gpu: 1, gpu_milli: 460, gpu_spec: '' },
    ]);
    expect(() => openbWorkload(nodes, fiveColumns, { mode: 'live' })).toThrow(
      /no creation_time\/deletion_time columns .* only be replayed in saturate mode/,
    );
  });

  it('live mode: arrival at creation_time, duration deletion_time - creation_time', () => {
    const arrivals = openbWorkload(nodes, pods, { mode: 'live' }).arrivals;
    expect(arrivals.map((a) => (a.at - SIMULATION_EPOCH_MS) / 1000)).toEqual([0, 10, 10, 20, 30, 50]);
    expect(arrivals.map((a) => a.task.duration)).toEqual([100, 30, 50, 180, 1, 100]);
  });

  it.each([
    // GPU capacity 2000 + 1000 + 0 = 3000 milli; pods ask 1000, 500, 0, 1000, 500, 250 in order.
    { saturateAt: 1, expected: 5, why: 'cumulative 3000 is reached with pod-4' },
    { saturateAt: 0.5, expected: 2, why: 'cumulative 1500 is reached with pod-1' },
    { saturateAt: 2, expected: 11, why: 'the trace (3250) is cycled once more up to 6250 >= 6000' },
  ])('saturate mode stops submitting at $saturateAt x capacity ($why)', ({ saturateAt, expected }) => {
    const arrivals = openbWorkload(nodes, pods, { mode: 'saturate', saturateAt }).arrivals;
    expect(arrivals).toHaveLength(expected);
    expect(new Set(arrivals.map((a) => a.task.id)).size).toBe(expected);
    const times = arrivals.map((a) => a.at);
    expect(times).toEqual([...times].sort((x, y) => x - y));
  });

  it.each([
    {
      mutation: 'non-numeric cpu_milli',
      text: 'name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time,scheduled_time\np,1000,1,0,0,,0,1,0\nq,abc,1,0,0,,0,1,0\n',
      field: 'line 3 column cpu_milli',
    },
    {
      mutation: 'deletion before creation',
      text: 'name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time,scheduled_time\np,1000,1,0,0,,50,10,50\n',
      field: 'line 2 column deletion_time',
    },
    {
      mutation: 'gpu_milli above one GPU',
      text: 'name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time,scheduled_time\np,1000,1,1,1500,,0,1,0\n',
      field: 'line 2 column gpu_milli',
    },
    {
      mutation: 'missing cell',
      text: 'name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time,scheduled_time\np,1000,1,0,0,,0,1\n',
      field: 'line 2',
    },
    {
      mutation: 'missing column',
      text: 'name,cpu_milli,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time,scheduled_time\np,1000,0,0,,0,1,0\n',
      field: 'line 1',
    },
    {
      mutation: 'creation_time without deletion_time',
      text: 'name,cpu_milli,memory_mib,num_gpu,gpu_milli,creation_time\np,1000,1,0,0,0\n',
      field: 'line 1',
    },
    {
      mutation: 'negative memory',
      text: 'name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time,scheduled_time\np,1000,-5,0,0,,0,1,0\n',
      field: 'line 2 column memory_mib',
    },
  ])('rejects a pod file with $mutation, naming $field', ({ text, field }) => {
    const error = errorOf(() => parseOpenbPods(text, 'pods.csv'));
    expect(error.issues.map((i) => i.field)).toEqual([field]);
    expect(error.message).toContain('pods.csv');
  });

  it('collects problems from several lines in one error', () => {
    const text = `${fixture('nodes.csv').trim()}\nnode-d,x,1,0,\nnode-e,1,1,y,\n`;
    const error = errorOf(() => parseOpenbNodes(text, 'nodes.csv'));
    expect(error.issues.map((i) => i.field)).toEqual(['line 5 column cpu_milli', 'line 6 column gpu']);
  });
});
