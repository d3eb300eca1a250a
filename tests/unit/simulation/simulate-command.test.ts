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

  it('replays a trace until saturation and reports the allocated share', async () => {
    const out = await run([
      '--nodes',
      fixture('nodes.csv'),
      '--pods',
      fixture('pods.csv'),
      '--mode',
      'saturate',
      '--algorithm',
      'best-fit,round-robin',
      '--json',
    ]);
    const { results } = JSON.parse(out) as {
      results: { algorithm: string; tasks: number; allocated_share: number }[];
    };
    expect(results.map((r) => r.algorithm)).toEqual(['best-fit', 'round-robin']);
    // The fixture saturates after 5 pods (see openb.test.ts); no more than all GPU capacity can be allocated.
    for (const r of results) {
      expect(r.tasks).toBe(5);
      expect(r.allocated_share).toBeGreaterThan(0);
      expect(r.allocated_share).toBeLessThanOrEqual(1);
    }
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
