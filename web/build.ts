import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

/** One file the server sends as is. */
export interface DashboardAsset {
  body: Uint8Array;
  type: string;
}

export interface BuildDashboardOptions {
  /** Directory holding index.html and src/; default: the directory of this file. */
  root?: string;
  /** Minify the bundle. Default true. */
  minify?: boolean;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const defaultRoot = fileURLToPath(new URL('.', import.meta.url));

/**
 * zod re-exports every translation of its messages (`z.locales`, about half of the bundle) through
 * a namespace object that no bundler can tree-shake. The dashboard only ever speaks English, the
 * default zod configures itself with, so the index resolves to English alone. Should zod move these
 * files, the filter stops matching and the bundle is merely larger again.
 */
const englishOnlyZodLocales: Plugin = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]/.test(args.importer)) return undefined;
      return { path: join(args.resolveDir, '..', 'locales', 'index.js'), namespace: 'zod-locales' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/**
 * Bundles the dashboard (web/src/main.ts with uPlot and its CSS) in memory and returns every file
 * keyed by URL path: '/', '/assets/app.js', '/assets/app.css' and their source maps. The local
 * server calls this once at start, so there is no build step and no generated file in the repository.
 */
export async function buildDashboardAssets(
  options: BuildDashboardOptions = {},
): Promise<Map<string, DashboardAsset>> {
  const root = options.root ?? defaultRoot;
  const result = await build({
    entryPoints: { app: join(root, 'src', 'main.ts') },
    outdir: join(root, 'assets'),
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    // Browsers of the last few years; the page uses dialogs, private fields and ResizeObserver.
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: options.minify ?? true,
    sourcemap: 'linked',
    logLevel: 'silent',
    plugins: [englishOnlyZodLocales],
  });
  const assets = new Map<string, DashboardAsset>();
  for (const file of result.outputFiles) {
    const name = basename(file.path);
    const extension = name.slice(name.lastIndexOf('.'));
    assets.set(`/assets/${name}`, {
      body: file.contents,
      type: TYPES[extension] ?? 'application/octet-stream',
    });
  }
  for (const required of ['/assets/app.js', '/assets/app.css']) {
    if (!assets.has(required)) throw new Error(`dashboard build produced no ${required}`);
  }
  const html = await readFile(join(root, 'index.html'));
  assets.set('/', { body: new Uint8Array(html), type: 'text/html; charset=utf-8' });
  return assets;
}
