import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeySigner } from '../../../lib/adapters/local-key';
import { computeDigest, toTimestamp } from '../../../lib/ledger';
import { type SignedDigest, signDigest } from '../../../lib/ledger/signed-digest';
import { buildChain, sampleTransactions, T0 } from './helpers/transactions';

const has = (tool: string) =>
  spawnSync(tool, ['--version']).status === 0 || spawnSync(tool, ['version']).status === 0;
const tools = has('openssl') && has('jq');

/** The shell block of docs/ledger-format.md section 10, run as written. */
async function documentedCommands(): Promise<string> {
  const doc = await readFile('docs/ledger-format.md', 'utf8');
  const section = doc.slice(doc.indexOf('## 10. Signed digests'));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block?.[1]) throw new Error('docs/ledger-format.md section 10 has no sh block');
  return block[1];
}

describe.runIf(tools)('a signed digest verifies offline with the documented openssl commands', () => {
  let dir: string;
  let signed: SignedDigest;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bcs-openssl-'));
    const signer = await LocalKeySigner.open(join(dir, 'signing-key.pem'));
    await writeFile(join(dir, 'key.pem'), await signer.publicKeyPem());
    signed = await signDigest(
      computeDigest(buildChain(sampleTransactions(12, 3), 4), toTimestamp(T0)),
      signer,
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const run = async (value: unknown) => {
    await writeFile(join(dir, 'signed-digest.json'), JSON.stringify(value, null, 2));
    return spawnSync('sh', ['-e', '-c', await documentedCommands()], { cwd: dir, encoding: 'utf8' });
  };

  it('prints Verified OK for the digest as signed', async () => {
    const result = await run(signed);
    expect(result.stdout.trim()).toBe('Verified OK');
    expect(result.status).toBe(0);
  });

  it.each([
    ['height', { height: 1, tree_size: 2 }],
    ['timestamp', { timestamp: '2031-01-01T00:00:00.000Z' }],
    ['key_id', { key_id: 'sha256:00' }],
  ])('fails when %s is changed', async (_field, change) => {
    const result = await run({ ...signed, ...change });
    expect(result.stdout.trim()).toBe('Verification failure');
    expect(result.status).toBe(1);
  });

  it('signs the same bytes jq reconstructs (member order in the file does not matter)', async () => {
    const reversed = Object.fromEntries(Object.entries(signed).reverse());
    expect((await run(reversed)).status).toBe(0);
    const statement = execFileSync('jq', ['-jcS', 'del(.signature)', join(dir, 'signed-digest.json')], {
      encoding: 'utf8',
    });
    expect(statement.startsWith('{"blocks_root":')).toBe(true);
  });
});
