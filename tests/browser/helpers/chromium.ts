import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's package (scripts/install-chromium.sh); playwright's own downloaded builds are never used. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Without the background-networking flags Chromium keeps retrying Google services on this closed
 * network and the first navigation can hang; QUIC and GPU are off for the same reason and for CI VMs.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Throws (so the test fails, never skips) when the browser is missing. */
export function requireChromium(): string {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. Install Debian's package with scripts/install-chromium.sh ` +
        '(apt-get install chromium) or set CHROMIUM_PATH; the browser test cannot run without it.',
    );
  }
  return CHROMIUM_PATH;
}

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A persistent context on a fresh, throw-away profile directory. */
export async function launchChromium(viewport = { width: 1600, height: 1000 }): Promise<LaunchedBrowser> {
  const executablePath = requireChromium();
  const profile = await mkdtemp(join(tmpdir(), 'bcs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    deviceScaleFactor: 1,
    colorScheme: 'dark',
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens the dashboard at `url` in a new page of `browser` and waits for its live connection. Page
 * errors, console errors and console warnings are appended to `errors`, which a test asserts empty.
 */
export async function openDashboard(browser: LaunchedBrowser, url: string, errors: string[]): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') errors.push(message.text());
  });
  await page.goto(url);
  await page.waitForSelector('[data-testid=connection][data-state=live]');
  return page;
}
