import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { freePort } from '../../../scripts/emulator/free-port';

/**
 * globalSetup of the `aws` test project. With LOCALSTACK_ENDPOINT set, the tests use that endpoint
 * (a LocalStack or MiniStack someone else runs). Otherwise it installs the pinned MiniStack
 * (scripts/emulator/setup.sh), starts it on a free loopback port and stops it after the run.
 * Either way the tests see the endpoint in process.env (LOCALSTACK_ENDPOINT, AWS_ENDPOINT_URL) and
 * through inject('awsEndpoint'), with dummy credentials and region us-east-1. See docs/emulator.md.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    awsEndpoint: string;
    /** The file the deployed functions append their AWS calls to; '' when the emulator is not ours. */
    awsCallLog: string;
  }
}

const run = promisify(execFile);
const scripts = fileURLToPath(new URL('../../../scripts/emulator/', import.meta.url));
const calls = fileURLToPath(new URL('../../../.emulator/aws-calls/', import.meta.url));

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let endpoint = process.env.LOCALSTACK_ENDPOINT?.replace(/\/+$/, '');
  let stop = async () => {};
  let callLog = '';
  if (!endpoint) {
    const port = await freePort();
    // The emulator's Lambda workers inherit its environment: every deployed function records its AWS
    // calls here (functions/shared/aws-call-log.ts) for tests/aws/e2e/recorded-calls.ts to evaluate.
    await mkdir(calls, { recursive: true });
    callLog = join(calls, `${port}.jsonl`);
    await rm(callLog, { force: true });
    const { stdout } = await run(`${scripts}start.sh`, [String(port)], {
      timeout: 300_000,
      env: { ...process.env, BCS_AWS_CALL_LOG: callLog },
    });
    endpoint = stdout.trim().split('\n').at(-1)!;
    stop = async () => {
      await run(`${scripts}stop.sh`, [String(port)], { timeout: 60_000 });
      await rm(callLog, { force: true });
    };
    process.env.BCS_EMULATOR_STARTED = '1';
  }
  await waitForHealth(endpoint);

  Object.assign(process.env, {
    LOCALSTACK_ENDPOINT: endpoint,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    // As bin/bcs.js does: the SDK's Node 22 notice is about releases after the pinned one (README).
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  // A session token or profile from the developer's shell would be sent along with the dummy keys.
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  project.provide('awsEndpoint', endpoint);
  project.provide('awsCallLog', callLog);
  return stop;
}

async function waitForHealth(endpoint: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${endpoint}/_localstack/health`);
      if (response.ok) return;
      last = new Error(`HTTP ${response.status}`);
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`emulator at ${endpoint} is not healthy after ${timeoutMs} ms: ${String(last)}`);
}
