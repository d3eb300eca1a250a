import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchedBrowser, launchChromium, openDashboard, requireChromium } from './helpers/chromium';
import { type RunningRuntime, startRuntime } from './helpers/runtime';

/**
 * The autoscaling card against the real runtime with autoscaling on: the generator's load grows the
 * fleet and the card draws it with a scale-out marker; stopping the load brings it back to min with a
 * scale-in marker. UPDATE_SCREENSHOTS=1 refreshes docs/screenshots/autoscaling.png.
 */

const SCREENSHOT = resolve(
  import.meta.dirname,
  '..',
  '..',
  ...(process.env.UPDATE_SCREENSHOTS === '1' ? ['docs', 'screenshots'] : ['test-results']),
  'autoscaling.png',
);
const MIN = 2;
const TARGET = 3;

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

const generator = (body: Record<string, unknown>) =>
  api('/generator', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

function eventually<T>(read: () => T | Promise<T>, timeout = 20_000) {
  return expect.poll(read, { timeout, interval: 100 });
}

function paintedPixels(selector: string): Promise<number> {
  return page.$eval(selector, (element) => {
    const canvas = element as HTMLCanvasElement;
    const context = canvas.getContext('2d');
    if (!context || canvas.width === 0 || canvas.height === 0) return 0;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++;
    return painted;
  });
}

const markers = () => page.getByTestId('scaling-chart').getAttribute('data-markers').then(Number);

describe('autoscaling on the dashboard', () => {
  beforeAll(async () => {
    requireChromium();
    runtime = await startRuntime({
      seed: 5,
      fleet: { size: MIN, speed: 20, tick_ms: 100 },
      autoscale: {
        enabled: true,
        min: MIN,
        max: 8,
        target_backlog_per_vm: TARGET,
        max_step: 3,
        tick_ms: 250,
        scale_out_window_s: 0.5,
        scale_out_cooldown_s: 1,
        scale_in_window_s: 1,
        scale_in_cooldown_s: 0.5,
      },
    });
    browser = await launchChromium({ width: 1600, height: 1000 });
    page = await openDashboard(browser, runtime.url, pageErrors);
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  it('shows the card only because autoscaling is on, with the configured target', async () => {
    const config = await api<{ autoscale: { enabled: boolean; target_backlog_per_vm: number } }>('/config');
    expect(config.autoscale).toMatchObject({ enabled: true, target_backlog_per_vm: TARGET });
    expect(await page.getByTestId('scaling-card').isVisible()).toBe(true);
    await eventually(() => page.getByTestId('scaling-summary').textContent()).toContain(`(target ${TARGET})`);
  });

  it('draws a scale-out under load and a scale-in after it, as the server reports', async () => {
    await generator({
      running: true,
      rate: 60,
      size: 'large',
      duration_s: [20, 40],
      deadline_slack_s: [600, 1200],
    });
    await eventually(markers, 30_000).toBeGreaterThanOrEqual(1);
    await eventually(
      () => api<{ vms: unknown[] }>('/fleet').then((f) => f.vms.length),
      30_000,
    ).toBeGreaterThan(MIN);
    expect(await paintedPixels('[data-testid=scaling-chart] canvas')).toBeGreaterThan(0);
    const grown = await markers();

    await generator({ running: false });
    await eventually(() => api<{ vms: unknown[] }>('/fleet').then((f) => f.vms.length), 40_000).toBe(MIN);
    // At least one scale-in joined the scale-outs; the summary ends where the fleet did.
    expect(await markers()).toBeGreaterThan(grown);
    await eventually(() => page.getByTestId('scaling-summary').textContent()).toContain(
      `${MIN} active / ${MIN} VMs`,
    );
    expect(await page.locator('#invalid-events').isHidden()).toBe(true);
    expect(pageErrors).toEqual([]);
    await mkdir(dirname(SCREENSHOT), { recursive: true });
    await page.getByTestId('scaling-card').screenshot({ path: SCREENSHOT });
  });
});
