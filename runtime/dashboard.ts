import { buildDashboardAssets } from '../web/build';
import type { StaticAsset } from './http/app';

const FALLBACK = new TextEncoder().encode(
  '<!doctype html><title>bcs</title><p>The dashboard could not be built; the API is up (see /openapi.json).</p>',
);

/**
 * Bundles the dashboard at start. A failed build leaves the API running with a page that says so:
 * the scheduler is more important than its charts.
 */
export async function loadDashboard(
  log: (message: string) => void,
): Promise<ReadonlyMap<string, StaticAsset>> {
  try {
    return await buildDashboardAssets();
  } catch (error) {
    log(`dashboard build failed: ${error instanceof Error ? error.message : String(error)}`);
    return new Map([['/', { body: FALLBACK, type: 'text/html; charset=utf-8' }]]);
  }
}
