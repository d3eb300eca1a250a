import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { simulateCommand } from '../../../cli/commands/simulate';
import { ValidationError } from '../../../lib/errors';
import { algorithmNames } from '../../../lib/scheduling/registry';

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));

async function run(args: string[]): Promise<string> {
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    await simulateCommand().exitOverride().parseAsync(args, { from: 'user' });
  } finally {
    write.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('bcs simulate', () => {
  it('--json prints exactly one object with one conserving row per algorithm', async () => {
    const out = await run(['--vms', '10', '--tasks', '300', '--load', '0.9', '--algorithm', 'all', '--json']);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const { results } = JSON.parse(lines[0]!) as { results: Record<string, unknown>[] };
    expect(results.map((r) => r.algorithm)).toEqual(algorithmNames());
    for (const r of results) {
      expect(Object.keys(r).sort()).toEqual(
        [
          'algorithm',
          'deadline_compliance',
          'fragmentation',
          'imbalance_cv',
          'mean_utilisation',
          'placed',
          'rejected',
          'success_rate',
          'tasks',
        ].sort(),
      );
      expect((r.placed as number) + (r.rejected as number)).toBe(300);
    }
  });

  it('--mode saturate replays the trace as the paper does: GPUs as devices, one row per algorithm, the seeds given', async () => {
    const out = await run([
      '--nodes',
      fixture('nodes.csv'),
      '--pods',
      fixture('pods.csv'),
      '--mode',
      'saturate',
      '--algorithm',
      'best-fit,fgd',
      '--seeds',
      '42,43',
      '--json',
    ]);
    const parsed = JSON.parse(out) as {
      gpu_model: string;
      results: {
        algorithm: string;
        tasks: number;
        placed: number;
        rejected: number;
        allocated_share: number;
        gpu_devices: { devices: number; full: number; partial: number; idle: number; stranded_share: number };
        runs: { seed: number }[];
      }[];
    };
    expect(parsed.gpu_model).toBe('device');
    expect(parsed.results.map((r) => r.algorithm)).toEqual(['best-fit', 'fgd']);
    for (const r of parsed.results) {
      expect(r.runs.map((x) => x.seed)).toEqual([42, 43]);
      expect(r.placed + r.rejected).toBe(r.tasks);
      expect(r.allocated_share).toBeGreaterThan(0);
      expect(r.allocated_share).toBeLessThanOrEqual(1);
      const use = r.gpu_devices;
      expect(use.devices).toBeGreaterThan(0);
      expect(use.full + use.partial + use.idle).toBe(use.devices);
      expect(use.stranded_share).toBeGreaterThanOrEqual(0);
      expect(use.stranded_share).toBeLessThan(1);
    }
  });

  it('refuses to replay a five-column pod list live, naming the mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bcs-pods-'));
    const pods = join(dir, 'multigpu.csv');
    writeFileSync(pods, 'name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1000,1024,2,1000\n');
    const error = await run(['--nodes', fixture('nodes.csv'), '--pods', pods]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      expect.objectContaining({
        field: 'mode',
        message: expect.stringMatching(/only be replayed in saturate mode/),
      }),
    ]);
    const saturated = JSON.parse(
      await run([
        '--nodes',
        fixture('nodes.csv'),
        '--pods',
        pods,
        '--mode',
        'saturate',
        '--algorithm',
        'best-fit',
        '--seeds',
        '1',
        '--json',
      ]),
    ) as { results: { tasks: number }[] };
    expect(saturated.results[0]!.tasks).toBeGreaterThan(0);
  });

  it('prints a table by default', async () => {
    const out = await run(['--vms', '5', '--tasks', '50', '--algorithm', 'p2c']);
    expect(out).toContain('synthetic 5 VMs, 50 tasks');
    expect(out).toMatch(/p2c/);
  });

  it.each([
    [['--vms', 'many'], 'vms'],
    [['--load', '-1'], 'load'],
    [['--nodes', 'a.csv'], 'pods'],
    [['--mode', 'sideways'], 'mode'],
    [['--seeds', '1,x'], 'seeds'],
    [['--seeds', '1'], 'seeds'],
  ])('rejects %j naming the field %s', async (args, field) => {
    const error = await run(args).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field)).toContain(field);
  });

  it('names the file, line and column of a bad trace row', async () => {
    const error = await run(['--nodes', fixture('pods.csv'), '--pods', fixture('pods.csv')]).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toMatch(/pods\.csv.*line 1/);
  });
});
