import { afterEach, describe, expect, it } from 'vitest';
import { runSchemathesis } from '../../../scripts/fuzz/schemathesis';
import { type RunningServer, startServer } from '../helpers/server';

/**
 * Issue 11: an off-the-shelf fuzzer, driven only by /openapi.json, against the real local server.
 * Schemathesis runs every check it has (server errors, status codes, content types, response schemas
 * and headers, positive and negative data, 405 with Allow, auth, and stateful sequences along the
 * document's links) with a fixed seed and a bounded number of examples, once without a token and once
 * with one. It must find nothing, and the chain must verify afterwards.
 */

const EXAMPLES = Number(process.env.SCHEMATHESIS_EXAMPLES ?? 5);
const SEED = 11;
const TOKEN = 'schemathesis-token-0123456789';

let server: RunningServer | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function fuzz(token?: string) {
  server = await startServer({
    // A queue bound so that a generator the fuzzer switches on cannot outgrow the run.
    config: { fleet: { size: 4 }, seed: 3, max_queue_depth: 20_000 },
    ...(token ? { env: { BCS_TOKEN: token } } : {}),
  });
  const result = await runSchemathesis({
    url: server.url,
    maxExamples: EXAMPLES,
    seed: SEED,
    ...(token ? { token } : {}),
  });
  const summary = result.output.split('\n').slice(-60).join('\n');
  expect(
    result.code,
    `schemathesis found problems:\n${summary}\nserver:\n${server.stderr().slice(-2000)}`,
  ).toBe(0);
  expect(result.output).toMatch(/API Operations:\s+Selected: \d+\/\d+\s+Tested: [1-9]/);
  const verify = await fetch(`${server.url}/ledger/verify`, { method: 'POST' });
  expect(await verify.json()).toMatchObject({ valid: true });
}

describe('schemathesis against the local server', () => {
  it('finds no failure without a token', async () => {
    await fuzz();
  }, 300_000);

  it('finds no failure with a token (and every protected route refuses a request without it)', async () => {
    await fuzz(TOKEN);
  }, 300_000);
});
