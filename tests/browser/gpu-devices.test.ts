import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchedBrowser, launchChromium, openDashboard, requireChromium } from './helpers/chromium';
import { type RunningRuntime, startRuntime } from './helpers/runtime';

/**
 * Per-device GPU use on the live dashboard, against the real local runtime: simulated VMs with four
 * A100s each (`fleet.gpu_model`), tasks taking two whole GPUs and a share of one, and the heat-map
 * tooltip must show every device of the VM with what GET /fleet says the ledger holds on it.
 */

const RUNTIME_CONFIG = {
  dimensions: ['cpu', 'mem', 'gpu'],
  seed: 11,
  algorithm: 'best-fit',
  fleet: { size: 2, speed: 1, capacity: { cpu: 16000, mem: 65536, gpu: 4000 }, gpu_model: 'A100' },
};

interface FleetBody {
  vms: { id: string; gpus?: { model: string; milli: number; reserved: number }[] }[];
}

let runtime: RunningRuntime;
let browser: LaunchedBrowser;
let page: Page;
const pageErrors: string[] = [];

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(new URL(path, runtime.url), init);
  if (!response.ok)
    throw new Error(`${init?.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

function eventually<T>(read: () => T | Promise<T>, timeout = 30_000) {
  return expect.poll(read, { timeout, interval: 100 });
}

const reservedOn = (fleet: FleetBody) =>
  fleet.vms.flatMap((vm) => vm.gpus ?? []).reduce((sum, g) => sum + g.reserved, 0);

describe('GPU devices on the dashboard', () => {
  beforeAll(async () => {
    requireChromium();
    runtime = await startRuntime(RUNTIME_CONFIG);
    browser = await launchChromium({ width: 1400, height: 900 });
    page = await openDashboard(browser, runtime.url, pageErrors);
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  it('shows each GPU of a VM with the milli-GPU the ledger holds on it', async () => {
    const fleet = await api<FleetBody>('/fleet');
    expect(fleet.vms.map((vm) => vm.gpus?.map((g) => `${g.model}:${g.milli}:${g.reserved}`))).toEqual([
      ['A100:1000:0', 'A100:1000:0', 'A100:1000:0', 'A100:1000:0'],
      ['A100:1000:0', 'A100:1000:0', 'A100:1000:0', 'A100:1000:0'],
    ]);
    const deadline = Math.floor(Date.now() / 1000) + 7200;
    const task = (id: string, gpu: number) => ({ id, cpu: 1000, mem: 1024, gpu, deadline, duration: 3600 });
    await api('/tasks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([task('pair', 2000), task('share', 500)]),
    });
    await eventually(async () => reservedOn(await api<FleetBody>('/fleet'))).toBe(2500);

    const placed = (await api<FleetBody>('/fleet')).vms.find((vm) =>
      (vm.gpus ?? []).some((g) => g.reserved > 0),
    )!;
    const grid = page.getByTestId('vm-grid');
    await eventually(() => grid.getAttribute('data-vm-count')).toBe('2');
    const box = (await grid.boundingBox())!;
    // Find the placed VM's tile: sweep along the first row until the tooltip names it.
    let found = false;
    for (let x = 3; x < box.width && !found; x += 8) {
      await grid.hover({ position: { x, y: 3 } });
      const tooltip = page.locator('.tooltip');
      if (!(await tooltip.isVisible())) continue;
      found = (await tooltip.locator('strong').textContent()) === placed.id;
    }
    expect(found).toBe(true);
    // The dashboard refreshes the fleet on its own cadence; the tooltip follows the latest it holds.
    const rows = page.locator('.tooltip [data-testid=gpu-devices] tr[data-device]');
    await eventually(() => rows.count()).toBe(4);
    const shown = async () =>
      page.$$eval('.tooltip [data-testid=gpu-devices] tr[data-device]', (trs) =>
        trs.map((tr) => {
          const meter = tr.querySelector('meter') as HTMLMeterElement;
          return `${tr.children[1]!.textContent}:${meter.max}:${meter.value}`;
        }),
      );
    const expected = placed.gpus!.map((g) => `${g.model}:${g.milli}:${g.reserved}`);
    await eventually(async () => {
      await grid.hover({ position: { x: 3, y: 3 } });
      for (let x = 3; x < box.width; x += 8) {
        await grid.hover({ position: { x, y: 3 } });
        if ((await page.locator('.tooltip strong').textContent()) === placed.id) break;
      }
      return shown();
    }).toEqual(expected);
    // Two whole GPUs and a share of a third, over the fleet's eight: distinct devices, none over 1000.
    const all = (await api<FleetBody>('/fleet')).vms.flatMap((vm) => vm.gpus!.map((g) => g.reserved));
    expect(all.sort((a, b) => a - b)).toEqual([0, 0, 0, 0, 0, 500, 1000, 1000]);
    expect(pageErrors).toEqual([]);
  });
});
