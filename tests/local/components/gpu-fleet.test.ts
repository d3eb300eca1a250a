import { afterEach, describe, expect, it } from 'vitest';
import { runtimeConfigSchema } from '../../../lib/schemas/config';
import { seededRandom } from '../../../lib/simulation/rng';
import { SimulatedFleet } from '../../../runtime/fleet/simulated-fleet';
import { inProcessRuntime } from '../helpers/in-process-runtime';

/** GPU devices of the local simulated fleet: `fleet.gpu_model` and POST /fleet/vms `gpu_model`. */

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const post = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('simulated GPU devices', () => {
  it('gives each VM one device of the model per 1000 of its gpu capacity, none without GPU', () => {
    const fleet = new SimulatedFleet({
      dimensions: ['cpu', 'gpu'],
      defaultCapacity: { cpu: 8000, gpu: 4000 },
      zones: ['a'],
      speed: 1,
      noise: 0,
      historyWindow: 2,
      random: seededRandom(1),
      gpuModel: 'A100',
    });
    fleet.addVms(1);
    fleet.addVms(1, { gpu: 2000 }, {}, 'simulation', 'T4');
    fleet.addVms(1, { gpu: 0 });
    const [a, b, c] = fleet.snapshot();
    expect(a!.gpus).toEqual(Array.from({ length: 4 }, () => ({ model: 'A100', milli: 1000 })));
    expect(b!.gpus).toEqual([
      { model: 'T4', milli: 1000 },
      { model: 'T4', milli: 1000 },
    ]);
    expect(c!.gpus).toBeUndefined();
  });

  it('refuses a gpu_model without the gpu dimension or whole GPUs, naming the field', () => {
    const noGpu = runtimeConfigSchema.safeParse({ dimensions: ['cpu', 'mem'], fleet: { gpu_model: 'A100' } });
    expect(noGpu.error!.issues[0]).toMatchObject({ path: ['fleet', 'gpu_model'] });
    const half = runtimeConfigSchema.safeParse({
      dimensions: ['cpu', 'mem', 'gpu'],
      fleet: { gpu_model: 'A100', capacity: { cpu: 4000, gpu: 1500 } },
    });
    expect(half.error!.issues[0]).toMatchObject({ path: ['fleet', 'capacity', 'gpu'] });
    expect(half.error!.issues[0]!.message).toContain('whole GPUs');
    const bad = runtimeConfigSchema.safeParse({ dimensions: ['gpu'], fleet: { gpu_model: 'a;b' } });
    expect(bad.error!.issues[0]).toMatchObject({ path: ['fleet', 'gpu_model'] });
    const ok = runtimeConfigSchema.parse({
      dimensions: ['cpu', 'mem', 'gpu'],
      fleet: { gpu_model: 'A100', capacity: { cpu: 4000, gpu: 8000 } },
    });
    expect(ok.fleet.gpu_model).toBe('A100');
  });

  it('POST /fleet/vms refuses gpu_model on a runtime that does not schedule gpu, adding nothing', async () => {
    const { app, fleet, store } = inProcessRuntime({}, 1);
    close = () => store.close();
    const response = await app.request('/fleet/vms', post({ count: 1, gpu_model: 'A100' }));
    expect(response.status).toBe(400);
    expect((await response.json()).issues).toEqual([
      { field: 'gpu_model', message: 'needs the gpu dimension, which this runtime does not schedule' },
    ]);
    expect(fleet.size).toBe(1);
  });
});
