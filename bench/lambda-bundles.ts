import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { SignatureV4 } from '@smithy/signature-v4';
import { build, type Metafile } from 'esbuild';
import { FUNCTION_BUNDLING } from '../cdk/lib/nodejs-function';
import { freePort } from '../scripts/emulator/free-port';
import { Sha256 } from '../tests/aws/e2e/signed-fetch';
import { median, round } from './stats';

/**
 * Lambda start-up (issue "performance that means what it says", item 5): every function under
 * functions/ bundled exactly as the stack bundles it (cdk/lib/nodejs-function.ts FUNCTION_BUNDLING),
 * then
 * - its size: the .mjs Lambda loads, and that file deflated (what the deployment zip stores);
 * - the heaviest packages in it (esbuild's metafile, bytes in the output per package);
 * - `import_ms`: the time a fresh Node process takes to import the bundle (module evaluation is
 *   what a Lambda's init phase spends beyond the runtime's own start), median of several processes;
 * - optionally, on MiniStack, the first invocation of a newly created function against a warm one
 *   (the emulator spawns a Node worker per function, so the difference is its cold start).
 *
 * `aws_init_estimate_ms` scales the measured import by the CPU share Lambda gives the function's
 * memory size (1,769 MB = one vCPU, AWS's documented figure) and adds the Node.js runtime's own
 * start; it is an estimate, not a measurement on AWS.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

/** Memory sizes set in cdk/lib/constructs (the rest take ServiceFunction's default of 512 MB). */
const MEMORY_MB: Record<string, number> = { scheduler: 1024, verify: 1024 };
const DEFAULT_MEMORY_MB = 512;
const ONE_VCPU_MB = 1769;
/** Node.js 22 managed runtime start before the handler module is imported (an assumption, stated). */
const RUNTIME_START_MS = 120;
/** The functions read their settings at module scope; these satisfy every schema in functions/shared/config.ts. */
const STUB_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  TABLE_NAME: 'bench-ledger',
  LEASE_INDEX_NAME: 'lease',
  QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-dlq',
  MAX_RECEIVE_COUNT: '10',
  EXHAUSTED_QUEUE_ARN: 'arn:aws:sqs:us-east-1:123456789012:bench-exhausted',
  ALGORITHM: 'best-fit',
  VM_TAG_KEY: 'bcs:pool',
  VM_TAG_VALUE: 'bench',
  EVENT_BUS_NAME: 'bench',
  FLEET_NAME: 'bench',
  DIGEST_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/bench',
  LOG_BUCKET: 'bench-log',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_METRICS_NAMESPACE: 'bench',
  POWERTOOLS_DEV: 'false',
};

export interface LambdaBundleRow {
  function: string;
  bundle_kb: number;
  zipped_kb: number;
  under_1_mb: boolean;
  heaviest: { package: string; kb: number }[];
  import_ms: number;
  import_ms_min: number;
  import_ms_max: number;
  memory_mb: number;
  aws_init_estimate_ms: number;
  emulator_cold_invoke_ms: number | null;
  emulator_warm_invoke_ms: number | null;
}

export interface LambdaBundleFigures {
  functions: LambdaBundleRow[];
  node: string;
  emulator: string;
}

export async function benchLambdaBundles(options: {
  processes: number;
  emulator: boolean;
  log: (line: string) => void;
}): Promise<LambdaBundleFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'bcs-bundles-'));
  // The bundles import nothing from outside, but Node decides ESM vs CommonJS by the nearest package.json.
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  const entries = (await readdir(join(ROOT, 'functions'))).filter((f) => f.endsWith('.ts')).sort();
  const rows: LambdaBundleRow[] = [];
  let endpoint: string | null = null;
  let port = 0;
  try {
    if (options.emulator) {
      port = await freePort();
      endpoint = (await run('bash', [join(ROOT, 'scripts/emulator/start.sh'), String(port)])).stdout.trim();
    }
    for (const entry of entries) {
      const name = basename(entry, '.ts');
      const outfile = join(dir, `${name}.mjs`);
      const metafile = await bundle(join(ROOT, 'functions', entry), outfile);
      const bytes = (await stat(outfile)).size;
      const code = await readFile(outfile);
      const zipped = deflateRawSync(code, { level: 9 }).length;
      const samples: number[] = [];
      for (let i = 0; i < options.processes; i++) samples.push(await importTime(outfile));
      const memory = MEMORY_MB[name] ?? DEFAULT_MEMORY_MB;
      const importMs = median(samples);
      let cold: number | null = null;
      let warm: number | null = null;
      if (endpoint !== null) [cold, warm] = await emulatorInvokes(endpoint, name, outfile);
      rows.push({
        function: name,
        bundle_kb: round(bytes / 1024, 4),
        zipped_kb: round(zipped / 1024, 3),
        under_1_mb: bytes < 1024 * 1024,
        heaviest: heaviest(metafile, 5),
        import_ms: round(importMs),
        import_ms_min: round(Math.min(...samples)),
        import_ms_max: round(Math.max(...samples)),
        memory_mb: memory,
        aws_init_estimate_ms: round(RUNTIME_START_MS + importMs * Math.max(1, ONE_VCPU_MB / memory)),
        emulator_cold_invoke_ms: cold === null ? null : round(cold),
        emulator_warm_invoke_ms: warm === null ? null : round(warm),
      });
      options.log(
        `  ${name}: ${round(bytes / 1024, 4)} KB, import ${round(importMs)} ms` +
          (cold === null ? '' : `, emulator first invoke ${round(cold)} ms, warm ${round(warm ?? 0)} ms`),
      );
    }
  } finally {
    if (options.emulator && port) await run('bash', [join(ROOT, 'scripts/emulator/stop.sh'), String(port)]);
    await rm(dir, { recursive: true, force: true });
  }
  return {
    functions: rows,
    node: process.version,
    emulator: options.emulator ? 'MiniStack (Lambda workers are local Node processes)' : 'not run',
  };
}

async function bundle(entry: string, outfile: string): Promise<Metafile> {
  const b = FUNCTION_BUNDLING;
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: b.target,
    minify: b.minify,
    // Lambda loads the .mjs; the source map ships beside it and is read only for stack traces.
    sourcemap: b.sourceMap ? 'external' : false,
    mainFields: b.mainFields,
    external: b.externalModules,
    banner: b.banner === undefined ? undefined : { js: b.banner },
    metafile: true,
    logLevel: 'error',
  });
  return result.metafile;
}

/** Bytes in the bundle per npm package (or per project folder), largest first. */
function heaviest(metafile: Metafile, n: number): { package: string; kb: number }[] {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
  const byPackage = new Map<string, number>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const key = match ? match[1]! : path.split('/').slice(0, 2).join('/');
    byPackage.set(key, (byPackage.get(key) ?? 0) + input.bytesInOutput);
  }
  return [...byPackage]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([pkg, bytes]) => ({ package: pkg, kb: round(bytes / 1024) }));
}

/** Milliseconds a fresh Node process spends importing the bundle (module evaluation included). */
async function importTime(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(`file://${file}`)}); process.stdout.write(String(performance.now() - t));`;
  let stdout: string;
  try {
    ({ stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', ...STUB_ENV },
    }));
  } catch (error) {
    // The minified source line of a throw is huge; the short lines around it say what failed.
    const stderr = String((error as { stderr?: unknown }).stderr ?? error);
    const short = stderr.split('\n').filter((line) => line.length < 300);
    throw new Error(`import of ${basename(file)} failed:\n${short.slice(-20).join('\n')}`);
  }
  const ms = Number(stdout.trim());
  if (!Number.isFinite(ms)) throw new Error(`import of ${file} printed ${JSON.stringify(stdout)}`);
  return ms;
}

const lambdaSigner = new SignatureV4({
  service: 'lambda',
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  sha256: Sha256,
});

/** The Lambda REST API, SigV4-signed with the emulator's dummy keys (no Lambda client in the dependencies). */
async function lambdaCall(endpoint: string, method: string, path: string, body: string): Promise<Response> {
  const url = new URL(path, endpoint);
  const signed = await lambdaSigner.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  });
  return fetch(url, { method, headers: signed.headers as Record<string, string>, body });
}

/**
 * Creates the function from the bundle and times its first invocation and the median of the next
 * three (ms). The event is `{}`, which some handlers refuse at once and others answer after failed
 * calls to a table that does not exist; the first minus the next is the worker's start and import.
 */
async function emulatorInvokes(endpoint: string, name: string, file: string): Promise<[number, number]> {
  const zipDir = await mkdtemp(join(tmpdir(), 'bcs-zip-'));
  try {
    await writeFile(join(zipDir, 'index.mjs'), await readFile(file));
    await run('zip', ['-q', 'function.zip', 'index.mjs'], { cwd: zipDir });
    const zip = await readFile(join(zipDir, 'function.zip'));
    const functionName = `bench-${name}-${Date.now()}`;
    const created = await lambdaCall(
      endpoint,
      'POST',
      '/2015-03-31/functions',
      JSON.stringify({
        FunctionName: functionName,
        Runtime: 'nodejs22.x',
        Role: 'arn:aws:iam::000000000000:role/bench',
        Handler: 'index.handler',
        Code: { ZipFile: zip.toString('base64') },
        Timeout: 30,
        MemorySize: MEMORY_MB[name] ?? DEFAULT_MEMORY_MB,
        Environment: { Variables: { ...STUB_ENV, AWS_ENDPOINT_URL: endpoint } },
      }),
    );
    if (!created.ok) throw new Error(`CreateFunction ${name}: ${created.status} ${await created.text()}`);
    const invoke = async () => {
      const start = performance.now();
      // An empty object: the handler may refuse it; only the time to an answer is measured.
      const answer = await lambdaCall(
        endpoint,
        'POST',
        `/2015-03-31/functions/${functionName}/invocations`,
        '{}',
      );
      await answer.arrayBuffer();
      return performance.now() - start;
    };
    const cold = await invoke();
    const warm = [await invoke(), await invoke(), await invoke()];
    return [cold, median(warm)];
  } finally {
    await rm(zipDir, { recursive: true, force: true });
  }
}
