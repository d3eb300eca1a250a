import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import Table from 'cli-table3';
import { Command } from 'commander';
import { parseOrThrow } from '../../lib/errors';
import { DigestBuilder } from '../../lib/ledger/digest';
import { exportJsonl } from '../../lib/ledger/jsonl';
import { transactionProof, transactionProofSchema, verifyTransactionProof } from '../../lib/ledger/proofs';
import type { Digest, TransactionProof } from '../../lib/ledger/types';
import { verifyChain } from '../../lib/ledger/verify';
import { transactionPathSchema } from '../../lib/schemas/api';
import { blocksFromStore } from '../../runtime/store-blocks';
import { CliExit, EXIT_NEGATIVE, EXIT_USAGE } from '../exit';
import { chooseSource, openDbStore, openLedgerSource, type SourceFlags } from '../ledger-source';
import { getJsonIfFound, openRemote, withRemoteOptions } from '../remote';
import { checkPublishedDigest, publishedDigest } from '../remote-ledger';
import {
  type KeyFlags,
  publicKey,
  readTrustedDigest,
  signedDigestFromServer,
  signLocally,
} from './ledger-signing';

interface VerifyFlags extends SourceFlags {
  digest?: string;
  publicKey?: string;
  json?: boolean;
}

export function ledgerCommand(): Command {
  const ledger = new Command('ledger').description('audit the ledger: verify, export, proofs, digests');

  withRemoteOptions(
    ledger
      .command('verify')
      .description(
        'recompute every hash and link; exit 0 valid, 1 invalid, 2 usage or I/O error. With --url, reads the blocks page by page up to the published digest and checks that digest too',
      )
      .option('--db <file>', 'a ledger.db file')
      .option('--export <file>', 'a JSON Lines export'),
  )
    .option(
      '--digest <file>',
      'a digest saved earlier, signed or not: the chain must extend it (detects rollback)',
    )
    .option(
      '--public-key <pem>',
      'check the signature of the --digest file with this public key (exit 1 if it fails)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (flags: VerifyFlags) => {
      if (flags.publicKey !== undefined && flags.digest === undefined)
        throw new CliExit(EXIT_USAGE, '--public-key checks a --digest file: give --digest too');
      const trustedDigest =
        flags.digest === undefined
          ? undefined
          : await readTrustedDigest(flags.digest, flags.publicKey, (m) => console.error(`warning: ${m}`));
      const source = await openLedgerSource(flags, ['db', 'export', 'url']);
      try {
        const options = {
          ...(source.head ? { expectedHead: source.head } : {}),
          ...(trustedDigest ? { trustedDigest } : {}),
        };
        const verification = await verifyChain(source.unchecked, options);
        const { digest, ...report } = source.published
          ? checkPublishedDigest(verification, source.published)
          : verification;
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

  withRemoteOptions(
    ledger
      .command('export')
      .description('write the chain as JSON Lines (one canonical block per line)')
      .option('--db <file>', 'a ledger.db file'),
  )
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

  withRemoteOptions(
    ledger
      .command('proof')
      .description('inclusion proof of a transaction against the current digest; exit 1 if unknown')
      .argument('<txid>', 'transaction id')
      .option('--db <file>', 'a ledger.db file'),
  ).action(async (txid: string, flags: SourceFlags) => {
    const proof = await loadProof(txid, flags);
    // Check it here too: an auditor should not have to trust the server that produced it.
    if (!verifyTransactionProof(proof))
      throw new CliExit(EXIT_NEGATIVE, `the proof for ${txid} does not verify`);
    console.log(JSON.stringify(proof, null, 2));
  });

  withRemoteOptions(
    ledger
      .command('digest')
      .description('the digest to keep for later rollback checks (verify --digest)')
      .option('--db <file>', 'a ledger.db file'),
  )
    .option('--out <file>', 'also write it to this file')
    .option('--sign', 'sign it: with --url the server signs; with --db the key beside it (or --key)')
    .option('--key <file>', 'with --db --sign: the signing key (default: digest-key.pem beside --db)')
    .action(async (flags: SourceFlags & { out?: string; sign?: boolean; key?: string }) => {
      if (flags.key !== undefined && !flags.sign) throw new CliExit(EXIT_USAGE, '--key needs --sign');
      const digest = flags.sign
        ? chooseSource(flags, ['db', 'url']) === 'url'
          ? await signedDigestFromServer(flags)
          : await signLocally(await loadDigest(flags), flags)
        : await loadDigest(flags);
      const text = `${JSON.stringify(digest, null, 2)}\n`;
      if (flags.out !== undefined) await writeFile(flags.out, text);
      process.stdout.write(text);
    });

  withRemoteOptions(
    ledger
      .command('public-key')
      .description(
        'the public key (SPKI PEM) that checks signed digests: of a server, a local key, or a KMS key',
      ),
  )
    .option('--db <file>', 'a ledger.db file: the key beside it (digest-key.pem)')
    .option('--key <file>', 'a local signing key file')
    .option('--kms-key-id <id>', 'a KMS key id, ARN or alias (AWS default credentials)')
    .option('--out <file>', 'also write it to this file')
    .action(async (flags: KeyFlags & { out?: string }) => {
      const pem = await publicKey(flags);
      if (flags.out !== undefined) await writeFile(flags.out, pem);
      process.stdout.write(pem);
    });

  return ledger;
}

async function loadDigest(flags: SourceFlags): Promise<Digest> {
  if (chooseSource(flags, ['db', 'url']) === 'url') return publishedDigest(await openRemote(flags));
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
  parseOrThrow(transactionPathSchema, { id: txid }, 'invalid <txid>');
  if (chooseSource(flags, ['db', 'url']) === 'url') {
    const path = `ledger/transactions/${encodeURIComponent(txid)}`;
    const proof = await getJsonIfFound(await openRemote(flags), path, transactionProofSchema);
    if (!proof) throw new CliExit(EXIT_NEGATIVE, `no transaction ${txid}`);
    return proof;
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
