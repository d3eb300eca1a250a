import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DECISIONS } from '../../web/src/panels/decisions-table';
import { type LaunchedBrowser, launchChromium, openDashboard, requireChromium } from './helpers/chromium';
import { type RunningRuntime, startRuntime } from './helpers/runtime';

/**
 * The dashboard in Debian's Chromium against the real local runtime (`bcs start`): nothing here is
 * mocked. Every figure the page shows is checked against what the HTTP API answers, and the page must
 * parse every live event the server sends (the "malformed events" pill stays hidden).
 */

// Every run saves its screenshot under test-results/ (git-ignored); UPDATE_SCREENSHOTS=1 refreshes the
// README's copy in docs/screenshots/ so that a plain test run leaves the working tree clean.
const SCREENSHOT = resolve(
  import.meta.dirname,
  '..',
  '..',
  ...(process.env.UPDATE_SCREENSHOTS === '1' ? ['docs', 'screenshots'] : ['test-results']),
  'dashboard.png',
);
const DIMENSIONS = ['cpu', 'mem', 'io', 'bw', 'gpu'];
const VMS = 120;

const RUNTIME_CONFIG = {
  dimensions: DIMENSIONS,
  seed: 7,
  block_size: 10,
  fleet: { size: VMS, speed: 20, capacity: { cpu: 4000, mem: 16384, io: 500, bw: 1000, gpu: 1000 } },
};

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

interface ConfigBody {
  algorithm: string;
  algorithms: string[];
  dimensions: string[];
  params: { alpha: number; beta: number; tau: number };
}

/** Pixels of a canvas that something was drawn on (alpha > 0), read back from the page. */
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

/** expect.poll with room for a live system (its default gives up after one second). */
function eventually<T>(read: () => T | Promise<T>, timeout = 20_000) {
  return expect.poll(read, { timeout, interval: 100 });
}

async function ledgerHeightShown(): Promise<number> {
  return Number(await page.getByTestId('ledger-height').getAttribute('data-height'));
}

describe('live dashboard', () => {
  beforeAll(async () => {
    // Fails the suite with install instructions instead of skipping when the browser is missing.
    requireChromium();
    runtime = await startRuntime(RUNTIME_CONFIG);
    browser = await launchChromium({ width: 1600, height: 1000 });
    page = await openDashboard(browser, runtime.url, pageErrors);
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  it('draws a utilisation chart per configured dimension and a heat-map tile per VM', async () => {
    const config = await api<ConfigBody>('/config');
    const fleet = await api<{ vms: unknown[] }>('/fleet');
    expect(config.dimensions).toEqual(DIMENSIONS);
    expect(fleet.vms).toHaveLength(VMS);

    const charts = page.locator('[data-testid^=utilisation-chart-]');
    await eventually(() => charts.count()).toBe(config.dimensions.length);
    for (const dimension of config.dimensions) {
      await eventually(() =>
        paintedPixels(`[data-testid=utilisation-chart-${dimension}] canvas`),
      ).toBeGreaterThan(0);
    }
    await eventually(() => page.getByTestId('vm-grid').getAttribute('data-vm-count')).toBe(String(VMS));
    expect(await paintedPixels('[data-testid=vm-grid]')).toBeGreaterThan(0);
    await eventually(() => page.locator('#kpi-vms').textContent()).toBe(`${VMS} / ${VMS}`);
    // Autoscaling is off by default, and so is its card (tests/browser/autoscaling.test.ts has it on).
    expect(await page.getByTestId('scaling-card').isHidden()).toBe(true);
    // 120 s at the configured speed of 20: 6.0 s of wall time.
    expect(await page.getByTestId('simulation-speed').textContent()).toContain(
      '×20: a 120 s task finishes in 6.0 s',
    );
  });

  it('refuses bad algorithm parameters in the page, names the field and changes nothing', async () => {
    const before = await api<ConfigBody>('/config');
    await page.getByTestId('param-tau').fill('-1');
    await page.getByTestId('algorithm-apply').click();

    const status = page.getByTestId('algorithm-status');
    await eventually(() => status.getAttribute('data-state')).toBe('error');
    expect(await status.textContent()).toContain('params.tau');
    expect(await api<ConfigBody>('/config')).toEqual(before);
  });

  it('switches the algorithm at run time through PUT /config/algorithm', async () => {
    const before = await api<ConfigBody>('/config');
    const target = before.algorithms.find((name) => name !== before.algorithm);
    expect(target, 'the runtime registers more than one algorithm').toBeDefined();

    await page.getByTestId('param-tau').fill('2');
    await page.getByTestId('algorithm-select').selectOption(target!);
    await page.getByTestId('algorithm-apply').click();

    await eventually(() => page.getByTestId('algorithm-status').getAttribute('data-state')).toBe('ok');
    const after = await api<ConfigBody>('/config');
    expect(after.algorithm).toBe(target);
    expect(after.params.tau).toBe(2);
    await eventually(() => page.getByTestId('active-algorithm').textContent()).toBe(target);
  });

  it('starts the generator, then shows decisions as the ledger grows', async () => {
    const startHeight = (await api<{ height: number }>('/ledger')).height;
    await page.getByTestId('generator-rate').fill('60');
    await page.getByTestId('generator-count').fill('');
    await page.getByTestId('generator-size').selectOption('mixed');
    await page.getByTestId('generator-start').click();

    await eventually(() => page.getByTestId('generator-indicator').getAttribute('data-running')).toBe('true');
    const generator = await api<{ running: boolean; rate: number; size: string }>('/generator');
    expect(generator).toMatchObject({ running: true, rate: 60, size: 'mixed' });

    await eventually(ledgerHeightShown, 30_000).toBeGreaterThan(startHeight + 2);
    // The page never shows a height the server has not reached.
    expect((await api<{ height: number }>('/ledger')).height).toBeGreaterThanOrEqual(
      await ledgerHeightShown(),
    );

    const rows = page.locator('[data-testid=decisions-table] tbody tr[data-status]');
    await eventually(() => rows.count(), 30_000).toBeGreaterThan(5);
    // A row is what the ledger says: look its transaction up through the API.
    // Read the row in one evaluation: the table re-renders as decisions stream in.
    const { cells, transactionId } = await rows.first().evaluate((row) => ({
      cells: Array.from(row.querySelectorAll('td'), (td) => td.textContent ?? ''),
      transactionId: row.querySelector('button.link')?.getAttribute('title') ?? '',
    }));
    const found = await api<{ transaction: { task_id: string; vm_id: string | null; status: string } }>(
      `/ledger/transactions/${encodeURIComponent(transactionId)}`,
    );
    expect(found.transaction.task_id).toBe(cells[1]);
    expect(found.transaction.status).toBe(cells[2]);
    expect(found.transaction.vm_id ?? '—').toBe(cells[3]);

    await eventually(() => page.getByTestId('utilisation-latest-cpu').textContent()).toMatch(/% reserved/);
    await eventually(() => paintedPixels('[data-testid=queue-chart] canvas')).toBeGreaterThan(0);
    const metricsRow = page.locator(`[data-testid=metrics-table] tr[data-algorithm]`).first();
    await eventually(() => metricsRow.count()).toBe(1);
  });

  it('verifies the chain from the page and shows the server report', async () => {
    const shown = await ledgerHeightShown();
    await page.getByTestId('verify-button').click();
    const result = page.getByTestId('verify-result');
    await eventually(() => result.getAttribute('data-state'), 30_000).toBe('valid');
    expect(await page.getByTestId('verify-verdict').textContent()).toContain('Chain valid');

    // A full re-audit (202 and a job): a second plain POST would check only the blocks committed since
    // the page's (incremental audit).
    const job = await api<{ job_id: string }>('/ledger/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ full: true }),
    });
    type Job = { state: string; report: { valid: boolean; blocks_checked: number } | null };
    const jobPath = `/ledger/verify/${job.job_id}`;
    await eventually(async () => (await api<Job>(jobPath)).state, 30_000).toBe('done');
    const report = (await api<Job>(jobPath)).report!;
    expect(report.valid).toBe(true);
    const text = await result.textContent();
    const checked = Number(/blocks checked([\d,]+)/.exec(text ?? '')?.[1]?.replaceAll(',', ''));
    expect(checked).toBeGreaterThanOrEqual(shown);
    expect(checked).toBeLessThanOrEqual(report.blocks_checked);
  });

  it('holds the decisions still under the pointer and opens a transaction with its inclusion proof', async () => {
    const rows = page.locator('[data-testid=decisions-table] tbody');
    await page.locator('#decisions-wrap').hover();
    await eventually(() => rows.getAttribute('data-paused')).toBe('true');
    const link = rows.locator('tr[data-status] button.link').first();
    const id = await link.getAttribute('title');
    await link.click();
    try {
      const body = page.locator('#transaction-body');
      await eventually(() => body.textContent()).toContain(`"transaction_id": "${id}"`);
      const proof = JSON.parse((await body.textContent())!) as {
        tx_proof: string[];
        digest: { height: number };
      };
      expect(Array.isArray(proof.tx_proof)).toBe(true);
      expect(proof.digest.height).toBeGreaterThanOrEqual(0);
    } finally {
      // A modal left open would block every later click.
      await page.locator('#transaction-close').click();
      await page.mouse.move(0, 0);
    }
    expect(await page.locator('#transaction-dialog').evaluate((d) => (d as HTMLDialogElement).open)).toBe(
      false,
    );
    await eventually(() => rows.getAttribute('data-paused')).toBe('false');
  });

  it('links the JSON Lines export of the whole ledger and the OpenAPI document', async () => {
    const href = await page.getByTestId('ledger-export').getAttribute('href');
    const response = await fetch(new URL(href!, runtime.url));
    expect(response.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await response.text()).trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    const openapi = await fetch(
      new URL((await page.getByTestId('openapi-link').getAttribute('href'))!, runtime.url),
    );
    expect(((await openapi.json()) as { openapi: string }).openapi).toMatch(/^3\./);
  });

  it('renders the page as documented in the README (docs/screenshots/dashboard.png)', async () => {
    // Let the charts gather some history, then show a heat-map tooltip in the picture.
    const samples = () => page.getByTestId('queue-chart').getAttribute('data-samples').then(Number);
    await eventually(samples, 60_000).toBeGreaterThanOrEqual(20);
    await page.getByTestId('verify-button').click();
    await eventually(() => page.getByTestId('verify-result').getAttribute('data-state')).toBe('valid');
    const grid = page.getByTestId('vm-grid');
    const box = await grid.boundingBox();
    // hover() scrolls the canvas into view first; the Verify click left the page scrolled down.
    await grid.hover({ position: { x: box!.width * 0.42, y: 12 } });
    await eventually(() => page.locator('.tooltip').isVisible()).toBe(true);
    // The tooltip carries the VM's figures from the ledger (GET /ledger), not only the live fleet.
    expect(await page.locator('.tooltip .ledger-line').textContent()).toMatch(
      /^ledger: \d+ assigned · \d+ completed/,
    );
    // More decisions than the table keeps have arrived; it shows the newest MAX_DECISIONS only.
    const total = Number((await page.locator('#decisions-count').textContent())?.replace(/\D/g, ''));
    expect(total).toBeGreaterThan(MAX_DECISIONS);
    expect(await page.locator('[data-testid=decisions-table] tbody tr').count()).toBe(MAX_DECISIONS);
    await mkdir(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('stops the generator', async () => {
    await page.getByTestId('generator-stop').click();
    await eventually(() => page.getByTestId('generator-indicator').getAttribute('data-running')).toBe(
      'false',
    );
    expect((await api<{ running: boolean }>('/generator')).running).toBe(false);

    // Once the ledger is quiet (running tasks complete within seconds at speed 20), the page shows
    // exactly the server's head and transaction count, although not every block is announced.
    const agree = async () => {
      const digest = await api<{ height: number; head_hash: string; transaction_count: number }>(
        '/ledger/digest',
      );
      const shown = {
        height: await ledgerHeightShown(),
        head: await page.getByTestId('ledger-head').getAttribute('title'),
        transactions: Number((await page.locator('#ledger-transactions').textContent())?.replaceAll(',', '')),
      };
      return (
        shown.height === digest.height &&
        shown.head === digest.head_hash &&
        shown.transactions === digest.transaction_count
      );
    };
    await eventually(agree, 40_000).toBe(true);
  });

  it('adds simulated VMs, refusing a bad count, and drains a VM from the heat map', async () => {
    type FleetBody = { vms: { id: string; state: string }[] };
    const grid = page.getByTestId('vm-grid');
    const status = page.getByTestId('fleet-status');
    const before = (await api<FleetBody>('/fleet')).vms.length;

    await page.getByTestId('fleet-add-count').fill('0');
    await page.getByTestId('fleet-add').click();
    await eventually(() => status.getAttribute('data-state')).toBe('error');
    expect(await status.textContent()).toContain('count');
    expect((await api<FleetBody>('/fleet')).vms).toHaveLength(before);

    await page.getByTestId('fleet-add-count').fill('5');
    await page.getByTestId('fleet-add').click();
    await eventually(() => status.getAttribute('data-state')).toBe('ok');
    expect((await api<FleetBody>('/fleet')).vms).toHaveLength(before + 5);
    await eventually(() => grid.getAttribute('data-vm-count')).toBe(String(before + 5));

    // The first tile: its id from the tooltip, then a click on the same spot drains it.
    await grid.hover({ position: { x: 3, y: 3 } });
    const id = await page.locator('.tooltip strong').textContent();
    page.once('dialog', (dialog) => void dialog.accept());
    await grid.click({ position: { x: 3, y: 3 } });
    await eventually(() => status.textContent()).toBe(`${id} is draining.`);
    // A drained VM that has finished its tasks leaves the fleet; until then it stays, draining.
    const drained = (await api<FleetBody>('/fleet')).vms.find((vm) => vm.id === id);
    expect(drained === undefined || drained.state === 'draining').toBe(true);
  });

  // Before the restart test: requests failing while the server is down are expected there.
  it('parsed every live event the server sent, without page errors', async () => {
    expect(await page.locator('#invalid-events').isHidden()).toBe(true);
    expect(pageErrors).toEqual([]);
    expect(await page.getByTestId('connection').getAttribute('data-state')).toBe('live');
  });

  it('reconnects after the server restarts and reloads its state from the new snapshot', async () => {
    // Record every connection state the pill goes through; the outage is too short to poll reliably.
    await page.getByTestId('connection').evaluate((pill) => {
      const seen: string[] = [];
      (window as unknown as { connectionStates: string[] }).connectionStates = seen;
      new MutationObserver(() => seen.push(pill.dataset.state ?? '')).observe(pill, {
        attributes: true,
        attributeFilter: ['data-state'],
      });
    });
    const before = (await api<{ height: number }>('/ledger')).height;

    await runtime.restart();

    await eventually(
      () => page.evaluate(() => (window as unknown as { connectionStates: string[] }).connectionStates),
      30_000,
    ).toEqual(expect.arrayContaining(['reconnecting', 'live']));
    await eventually(() => page.getByTestId('connection').getAttribute('data-state')).toBe('live');
    // The ledger survived the restart and the page shows it from the new snapshot.
    const after = (await api<{ height: number }>('/ledger')).height;
    expect(after).toBeGreaterThanOrEqual(before);
    await eventually(ledgerHeightShown).toBeGreaterThanOrEqual(before);
    // The snapshot replaced the page state: nothing from the previous connection lingers.
    await eventually(() => page.locator('#decisions-count').textContent()).toMatch(/^\d+ since connected$/);
  });
});
