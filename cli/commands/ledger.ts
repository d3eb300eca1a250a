import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import Table from 'cli-table3';
import { Command } from 'commander';
import { DigestBuilder, digestSchema } from '../../lib/ledger/digest';
import { exportJsonl } from '../../lib/ledger/jsonl';
import { transactionProof, verifyTransactionProof } from '../../lib/ledger/proofs';
import type { Digest, TransactionProof } from '../../lib/ledger/types';
import { verifyChain, verifyJsonl } from '../../lib/ledger/verify';
import { blocksFromStore } from '../../runtime/store-blocks';
import { CliExit, EXIT_NEGATIVE, EXIT_USAGE } from '../exit';
import { openDbStore, openLedgerSource, request, type SourceFlags } from '../ledger-source';

interface VerifyFlags extends SourceFlags {
  digest?: string;
  json?: boolean;
}

export function ledgerCommand(): Command {
  const ledger = new Command('ledger').description('audit the ledger: verify, export, proofs, digests');

  ledger
    .command('verify')
    .description('recompute every hash and link; exit 0 valid, 1 invalid, 2 usage or I/O error')
    .option('--db <file>', 'a ledger.db file')
    .option('--export <file>', 'a JSON Lines export')
    .option('--url <url>', 'a running server')
    .option('--token <token>', 'bearer token for --url')
    .option('--digest <file>', 'a digest saved earlier: the chain must extend it (detects rollback)')
    .option('--json', 'print the report as JSON')
    .action(async (flags: VerifyFlags) => {
      const trustedDigest = flags.digest === undefined ? undefined : await readDigest(flags.digest);
      const source = await openLedgerSource(flags, ['db', 'export', 'url']);
      try {
        const options = {
          ...(source.head ? { expectedHead: source.head } : {}),
          ...(trustedDigest ? { trustedDigest } : {}),
        };
        const { digest, ...report } = source.lines
          ? await verifyJsonl(source.lines, options)
          : await verifyChain(source.blocks, options);
        if (flags.json) {
          console.log(JSON.stringify({ ...report, ...(digest ? { digest } : {}) }, null, 2));
        } else {
          const table = new Table();
          for (const [key, value] of Object.entries(report)) table.push({ [key]: String(value ?? '-') });
          if (digest) table.push({ blocks_root: digest.blocks_root });
          console.log(table.toString());
          console.log(
            report.valid ? 'ledger is valid' : `ledger is INVALID at height ${report.first_bad_height}`,
          );
        }
        if (!report.valid) throw new CliExit(EXIT_NEGATIVE, '');
      } finally {
        await source.close();
      }
    });

  ledger
    .command('export')
    .description('write the chain as JSON Lines (one canonical block per line)')
    .option('--db <file>', 'a ledger.db file')
    .option('--url <url>', 'a running server')
    .option('--token <token>', 'bearer token for --url')
    .option('--out <file>', 'output file (default: stdout)')
    .action(async (flags: SourceFlags & { out?: string }) => {
      const source = await openLedgerSource(flags, ['db', 'url']);
      const out = flags.out === undefined ? process.stdout : createWriteStream(flags.out);
      try {
        for await (const line of exportJsonl(source.blocks)) {
          if (!out.write(line)) await once(out, 'drain');
        }
      } finally {
        await source.close();
        if (out !== process.stdout)
          await new Promise<void>((resolve, reject) =>
            out.end((e?: Error | null) => (e ? reject(e) : resolve())),
          );
      }
    });

  ledger
    .command('proof')
    .description('inclusion proof of a transaction against the current digest; exit 1 if unknown')
    .argument('<txid>', 'transaction id')
    .option('--db <file>', 'a ledger.db file')
    .option('--url <url>', 'a running server')
    .option('--token <token>', 'bearer token for --url')
    .action(async (txid: string, flags: SourceFlags) => {
      const proof = await loadProof(txid, flags);
      // Check it here too: an auditor should not have to trust the server that produced it.
      if (!verifyTransactionProof(proof))
        throw new CliExit(EXIT_NEGATIVE, `the proof for ${txid} does not verify`);
      console.log(JSON.stringify(proof, null, 2));
    });

  ledger
    .command('digest')
    .description('the digest to keep for later rollback checks (verify --digest)')
    .option('--db <file>', 'a ledger.db file')
    .option('--url <url>', 'a running server')
    .option('--token <token>', 'bearer token for --url')
    .option('--out <file>', 'also write it to this file')
    .action(async (flags: SourceFlags & { out?: string }) => {
      const digest = await loadDigest(flags);
      const text = `${JSON.stringify(digest, null, 2)}\n`;
      if (flags.out !== undefined) await writeFile(flags.out, text);
      process.stdout.write(text);
    });

  return ledger;
}

async function readDigest(path: string): Promise<Digest> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new CliExit(EXIT_USAGE, `cannot read digest ${path}: ${(error as Error).message}`);
  }
  const parsed = digestSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(digest)'}: ${i.message}`)
      .join('; ');
    throw new CliExit(EXIT_USAGE, `${path} is not a digest: ${issues}`);
  }
  return parsed.data;
}

async function loadDigest(flags: SourceFlags): Promise<Digest> {
  if ((flags.db === undefined) === (flags.url === undefined))
    throw new CliExit(EXIT_USAGE, 'give exactly one of --db, --url');
  if (flags.url !== undefined)
    return digestSchema.parse(await (await request(flags.url, '/ledger/digest', flags.token)).json());
  const store = await openDbStore(flags.db!);
  try {
    const head = await store.readHead();
    const builder = new DigestBuilder();
    let timestamp = '';
    for await (const block of blocksFromStore(store, head.height)) {
      builder.append(block);
      timestamp = block.timestamp;
    }
    return builder.digest(timestamp);
  } finally {
    await store.close();
  }
}

async function loadProof(txid: string, flags: SourceFlags): Promise<TransactionProof> {
  if ((flags.db === undefined) === (flags.url === undefined))
    throw new CliExit(EXIT_USAGE, 'give exactly one of --db, --url');
  if (flags.url !== undefined) {
    const base = flags.url.endsWith('/') ? flags.url : `${flags.url}/`;
    const response = await fetch(new URL(`ledger/transactions/${encodeURIComponent(txid)}`, base)).catch(
      (error) => {
        throw new CliExit(EXIT_USAGE, `cannot reach ${flags.url}: ${(error as Error).message}`);
      },
    );
    if (response.status === 404) throw new CliExit(EXIT_NEGATIVE, `no transaction ${txid}`);
    if (!response.ok) throw new CliExit(EXIT_USAGE, `HTTP ${response.status}: ${await response.text()}`);
    return (await response.json()) as TransactionProof;
  }
  const store = await openDbStore(flags.db!);
  try {
    const at = await store.findTransaction(txid);
    if (!at) throw new CliExit(EXIT_NEGATIVE, `no transaction ${txid}`);
    const head = await store.readHead();
    const hashes: string[] = [];
    const builder = new DigestBuilder();
    let timestamp = '';
    for await (const block of blocksFromStore(store, head.height)) {
      hashes.push(block.block_hash);
      builder.append(block);
      timestamp = block.timestamp;
    }
    const block = await store.getBlock(at.height);
    if (!block) throw new CliExit(EXIT_USAGE, `block ${at.height} is missing`);
    return transactionProof(block, at.index, hashes, builder.digest(timestamp));
  } finally {
    await store.close();
  }
}
