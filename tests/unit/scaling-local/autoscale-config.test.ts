import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import { loadConfig } from '../../../runtime/config';

const fields = async (autoscale: Record<string, unknown>): Promise<string[]> => {
  try {
    await loadConfig({ overrides: { autoscale } });
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map((i) => i.field);
    throw error;
  }
  throw new Error('expected a ValidationError');
};

describe('autoscale configuration', () => {
  it('is off by default, with bounds, target and cooldowns set', async () => {
    const config = await loadConfig({});
    expect(config.autoscale).toEqual({
      enabled: false,
      min: 1,
      max: 64,
      target_backlog_per_vm: 10,
      max_step: 8,
      tick_ms: 1000,
      scale_out_window_s: 2,
      scale_out_cooldown_s: 5,
      scale_in_window_s: 10,
      scale_in_cooldown_s: 10,
    });
  });

  it('merges flags over the file key by key', async () => {
    const config = await loadConfig({ overrides: { autoscale: { enabled: true, max: 5 } } });
    expect(config.autoscale).toMatchObject({ enabled: true, min: 1, max: 5 });
  });

  it.each([
    ['min above max', { min: 5, max: 4 }, 'autoscale.max'],
    ['a target of 0', { target_backlog_per_vm: 0 }, 'autoscale.target_backlog_per_vm'],
    ['a fractional min', { min: 1.5 }, 'autoscale.min'],
    ['a negative cooldown', { scale_in_cooldown_s: -1 }, 'autoscale.scale_in_cooldown_s'],
    ['a tick too fast to be useful', { tick_ms: 10 }, 'autoscale.tick_ms'],
    ['a step of 0', { max_step: 0 }, 'autoscale.max_step'],
    ['enabled as a string', { enabled: 'yes' }, 'autoscale.enabled'],
  ])('names the field for %s', async (_name, autoscale, field) => {
    expect(await fields(autoscale)).toEqual([field]);
  });

  it('refuses an unknown key', async () => {
    expect((await fields({ target: 3 })).join()).toContain('autoscale');
  });
});
