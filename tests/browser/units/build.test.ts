import { beforeAll, describe, expect, it } from 'vitest';
import { buildDashboardAssets, type DashboardAsset } from '../../../web/build';

const text = (asset: DashboardAsset | undefined) => new TextDecoder().decode(asset?.body);

describe('buildDashboardAssets', () => {
  let assets: Map<string, DashboardAsset>;

  beforeAll(async () => {
    assets = await buildDashboardAssets();
  }, 60_000);

  it('serves the page and the two bundles it links, with their content types', () => {
    expect(assets.get('/')?.type).toBe('text/html; charset=utf-8');
    expect(assets.get('/assets/app.js')?.type).toBe('text/javascript; charset=utf-8');
    expect(assets.get('/assets/app.css')?.type).toBe('text/css; charset=utf-8');
    const html = text(assets.get('/'));
    expect(html).toContain('src="/assets/app.js"');
    expect(html).toContain('href="/assets/app.css"');
  });

  it('links each bundle to a source map that is served too', () => {
    expect(text(assets.get('/assets/app.js'))).toContain('//# sourceMappingURL=app.js.map');
    expect(JSON.parse(text(assets.get('/assets/app.js.map'))).version).toBe(3);
    expect(JSON.parse(text(assets.get('/assets/app.css.map'))).version).toBe(3);
  });

  it("bundles uPlot's stylesheet with the dashboard's", () => {
    const css = text(assets.get('/assets/app.css'));
    expect(css).toContain('.uplot');
    expect(css).toContain('.kpi-value');
  });

  it("keeps zod's English messages and leaves its other translations out", () => {
    const js = text(assets.get('/assets/app.js'));
    expect(js).toContain('Invalid input: expected');
    expect(js).not.toContain('Ungültige Eingabe');
  });
});
