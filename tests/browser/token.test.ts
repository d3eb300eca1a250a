import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchedBrowser, launchChromium, requireChromium } from './helpers/chromium';
import { type RunningRuntime, startRuntime } from './helpers/runtime';

/** A runtime started with a bearer token (BCS_TOKEN / `token`): reads stay open, changes need it. */

const TOKEN = 'browser-test-token-3f9a';

let runtime: RunningRuntime;
let browser: LaunchedBrowser;
let page: Page;

async function currentAlgorithm(): Promise<{ algorithm: string; algorithms: string[] }> {
  const response = await fetch(new URL('/config', runtime.url));
  return (await response.json()) as { algorithm: string; algorithms: string[] };
}

function eventually<T>(read: () => T | Promise<T>, timeout = 20_000) {
  return expect.poll(read, { timeout, interval: 100 });
}

describe('dashboard on a server that requires a token for changes', () => {
  beforeAll(async () => {
    requireChromium();
    runtime = await startRuntime({ token: TOKEN, seed: 3, fleet: { size: 4 } });
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(runtime.url);
    await page.waitForSelector('[data-testid=connection][data-state=live]');
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  it('still verifies the chain without a token: verification only reads', async () => {
    await page.getByTestId('verify-button').click();
    await eventually(() => page.getByTestId('verify-result').getAttribute('data-state')).toBe('valid');
  });

  it('says a token is needed when a change is refused, and changes nothing', async () => {
    const before = await currentAlgorithm();
    const target = before.algorithms.find((name) => name !== before.algorithm)!;
    await page.getByTestId('algorithm-select').selectOption(target);
    await page.getByTestId('algorithm-apply').click();

    const status = page.getByTestId('algorithm-status');
    await eventually(() => status.getAttribute('data-state')).toBe('error');
    expect(await status.textContent()).toContain('requires an API token');
    expect((await currentAlgorithm()).algorithm).toBe(before.algorithm);
  });

  it('sends the token once entered, and the change goes through', async () => {
    const before = await currentAlgorithm();
    const target = before.algorithms.find((name) => name !== before.algorithm)!;
    await page.getByTestId('api-token').fill(TOKEN);
    await page.getByTestId('api-token').press('Enter');
    await page.getByTestId('algorithm-select').selectOption(target);
    await page.getByTestId('algorithm-apply').click();

    await eventually(() => page.getByTestId('algorithm-status').getAttribute('data-state')).toBe('ok');
    expect((await currentAlgorithm()).algorithm).toBe(target);
  });
});
