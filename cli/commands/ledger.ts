import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import Table from 'cli-table3';
import { Command } from 'commander';
import type * as z from 'zod';
import { LedgerReader } from '../../lib/engine/ledger-reader';
import { verifyStoreInParallel } from '../../lib/engine/parallel-store-verify';
import { verifiableBlocks } from '../../lib/engine/verifiable-blocks';
import { parseOrThrow, ValidationError } from '../../lib/errors';
import type { ChainVerification } from '../../lib/ledger/chain-verifier';
import {
  checkDigestConsistency,
  DigestBuilder,
  type DigestConsistency,
  digestConsistencySchema,
} from '../../lib/ledger/digest';
import { duplicateMemberPath } from '../../lib/ledger/json-duplicates';
import { exportJsonl } from '../../lib/ledger/jsonl';
import { verifyJsonlFileParallel } from '../../lib/ledger/parallel-verify';
import { transactionProof, transactionProofSchema, verifyTransactionProof } from '../../lib/ledger/proofs';
import type { Digest, TransactionProof } from '../../lib/ledger/types';
import { verifyChain } from '../../lib/ledger/verify';
import { consistencyQuerySchema, transactionPathSchema } from '../../lib/schemas/api';
import { auditJobResponseSchema, verifyResponseSchema } from '../../lib/schemas/responses';
import { CliExit, EXIT_NEGATIVE, EXIT_USAGE } from '../exit';
import { chooseSource, mustExist, openDbStore, openLedgerSource, type SourceFlags } from '../ledger-source';
import { intOption } from '../options';
import { getJson, getJsonIfFound, openRemote, withRemoteOptions } from '../remote';
import { checkPublishedDigest, publishedDigest } from '../remote-ledger';
import { type CheckpointFlags, trustedCheckpointDigest, wantsCheckpoint } from './ledger-checkpoint';
import { addImportCommand } from './ledger-import';
import {
  type KeyFlags,
  latestSignedDigestOfStack,
  publicKey,
  readDigestJson,
  readText,
  readTrustedDigest,
  signedDigestFromServer,
  signLocally,
} from './ledger-signing';

interface VerifyFlags extends SourceFlags, CheckpointFlags {
  full?: boolean;
  digest?: string;
  publicKey?: string;
  consistency?: string;
  newDigest?: string;
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
    .option(
      '--consistency <file>',
      'instead of a chain: a consistency proof (bcs ledger consistency) that a newer digest extends --digest',
    )
    .option(
      '--new-digest <file>',
      'with --consistency: the newer digest, signed or not, that the proof must end at',
    )
    .option(
      '--checkpoint <file>',
      'a signed checkpoint (GET /checkpoint) instead of --digest: checked with --log-key and --witness, the chain must extend it',
    )
    .option('--log-key <vkey>', "the log's checkpoint verifier key (name+id+key, GET /ledger/tlog)")
    .option(
      '--witness <vkey>',
      "a witness's verifier key (repeatable): with --url and no --checkpoint, GET /checkpoint is checked",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--quorum <n>',
      'valid witness cosignatures the checkpoint needs (default 1 with --witness)',
      intOption,
    )
    .option(
      '--full',
      'a full re-audit on workers: with --url/--stack the server runs it in the background (POST /ledger/verify {"full": true}; on AWS a Step Functions Distributed Map over block ranges) and this polls its job; with --db or --export the local worker-thread verifier',
    )
    .option('--json', 'print the report as JSON')
    .action(async (flags: VerifyFlags) => {
      if (wantsCheckpoint(flags) && flags.digest !== undefined)
        throw new CliExit(
          EXIT_USAGE,
          '--digest and a checkpoint (--checkpoint, --log-key, --witness) exclude each other',
        );
      if (flags.publicKey !== undefined && flags.digest === undefined)
        throw new CliExit(EXIT_USAGE, '--public-key checks a --digest file: give --digest too');
      if (flags.consistency !== undefined || flags.newDigest !== undefined) {
        if (flags.full)
          throw new CliExit(EXIT_USAGE, '--full verifies a chain, --consistency a proof: not both');
        await verifyConsistencyFile(flags);
        return;
      }
      const warn = (m: string) => console.error(`warning: ${m}`);
      const trustedDigest = wantsCheckpoint(flags)
        ? (await trustedCheckpointDigest(flags, (m) => console.error(m))).digest
        : flags.digest === undefined
          ? undefined
          : await readTrustedDigest(flags.digest, flags.publicKey, warn);
      const { digest, ...report } = flags.full
        ? await fullAudit(flags, trustedDigest)
        : await verifySource(flags, trustedDigest);
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
    .option(
      '--sign',
      "signed: with --url the server signs; with --stack the latest digest the stack's scheduled verification signed (read from its table; exit 1 while there is none); with --db the key beside it (or --key)",
    )
    .option('--key <file>', 'with --db --sign: the signing key (default: digest-key.pem beside --db)')
    .option(
      '--wait <seconds>',
      'with --stack --sign: wait up to this long for the first signed digest (default 0)',
      intOption,
    )
    .action(async (flags: SourceFlags & { out?: string; sign?: boolean; key?: string; wait?: number }) => {
      if (flags.key !== undefined && !flags.sign) throw new CliExit(EXIT_USAGE, '--key needs --sign');
      if (flags.wait !== undefined && !(flags.sign && flags.stack !== undefined))
        throw new CliExit(EXIT_USAGE, '--wait needs --stack and --sign');
      const digest = flags.sign
        ? chooseSource(flags, ['db', 'url']) === 'url'
          ? flags.stack !== undefined
            ? await latestSignedDigestOfStack(flags.stack, flags.wait ?? 0)
            : await signedDigestFromServer(flags)
          : await signLocally(await loadDigest(flags), flags)
        : await loadDigest(flags);
      const text = `${JSON.stringify(digest, null, 2)}\n`;
      if (flags.out !== undefined) await writeFile(flags.out, text);
      process.stdout.write(text);
    });

  withRemoteOptions(
    ledger
      .command('consistency')
      .description(
        'RFC 9162 consistency proof between the digests at tree sizes --from and --to (height + 1), checked before it is printed; keep it for verify --digest old.json --consistency',
      )
      .requiredOption('--from <size>', 'tree size of the older digest (its height + 1)')
      .option('--to <size>', 'tree size of the newer digest (default: the current size)')
      .option('--db <file>', 'a ledger.db file'),
  )
    .option('--out <file>', 'also write it to this file')
    .action(async (flags: SourceFlags & { from: string; to?: string; out?: string }) => {
      const { from, to } = parseCli(
        consistencyQuerySchema,
        { from: flags.from, ...(flags.to !== undefined ? { to: flags.to } : {}) },
        'invalid --from/--to',
      );
      const served = await loadConsistency(flags, from, to);
      // Check it here too: an auditor should not have to trust the server that produced it.
      const check = checkDigestConsistency(served.from, served);
      if (!check.valid) throw new CliExit(EXIT_NEGATIVE, `${check.problem}: ${check.detail}`);
      const text = `${JSON.stringify(served, null, 2)}\n`;
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

  addImportCommand(ledger);
  return ledger;
}

/** The sequential verification of whichever source was given (the default). */
async function verifySource(flags: VerifyFlags, trustedDigest: Digest | undefined) {
  const source = await openLedgerSource(flags, ['db', 'export', 'url']);
  try {
    const options = {
      ...(source.head ? { expectedHead: source.head } : {}),
      ...(trustedDigest ? { trustedDigest } : {}),
    };
    const verification = await verifyChain(source.unchecked, options);
    return source.published ? checkPublishedDigest(verification, source.published) : verification;
  } finally {
    await source.close();
  }
}

/** Seconds between polls of a remote full re-audit's job. */
const AUDIT_POLL_MS = 2_000;

/**
 * --full: locally on worker threads (--export as it is, --db through a snapshot), remotely as a job the
 * server runs (POST /ledger/verify {"full": true}, then GET /ledger/verify/{id} until it ends). A job
 * the server could not finish is an I/O error (exit 2) naming why.
 */
async function fullAudit(flags: VerifyFlags, trustedDigest: Digest | undefined): Promise<ChainVerification> {
  const kind = chooseSource(flags, ['db', 'export', 'url']);
  if (kind === 'export') {
    await mustExist(flags.export!);
    return verifyJsonlFileParallel(flags.export!, trustedDigest ? { trustedDigest } : {});
  }
  if (kind === 'db') {
    const store = await openDbStore(flags.db!);
    try {
      return await verifyStoreInParallel(store, await store.readHead(), { trusted: trustedDigest ?? null });
    } finally {
      await store.close();
    }
  }
  if (trustedDigest)
    throw new CliExit(
      EXIT_USAGE,
      '--full with --url runs on the server, which holds the chain to its own latest signed digest: drop --digest/--checkpoint, or verify without --full',
    );
  const remote = await openRemote(flags);
  const started = await remote.send('POST', 'ledger/verify', { body: JSON.stringify({ full: true }) });
  const answer: unknown = await started.json();
  // 200: the server answered at once (a ledger with no blocks, or a signed digest it cannot trust).
  if (started.status === 200) return parseOrThrow(verifyResponseSchema, answer, 'POST /ledger/verify');
  let job = parseOrThrow(auditJobResponseSchema, answer, 'POST /ledger/verify');
  console.error(
    `full audit ${job.job_id} started: ${job.ranges.length || 'worker'} range(s) up to height ${job.head.height}`,
  );
  while (job.state === 'running') {
    await new Promise((resolve) => setTimeout(resolve, AUDIT_POLL_MS));
    job = await getJson(remote, `ledger/verify/${job.job_id}`, auditJobResponseSchema);
  }
  if (job.state === 'failed' || !job.report)
    throw new CliExit(EXIT_USAGE, `full audit ${job.job_id} could not finish: ${job.error ?? 'no report'}`);
  return { ...job.report, ...(job.digest ? { digest: digestOnly(job.digest) } : {}) };
}

function digestOnly(d: Digest): Digest {
  return {
    height: d.height,
    head_hash: d.head_hash,
    tree_size: d.tree_size,
    blocks_root: d.blocks_root,
    transaction_count: d.transaction_count,
    timestamp: d.timestamp,
  };
}

async function loadDigest(flags: SourceFlags): Promise<Digest> {
  if (chooseSource(flags, ['db', 'url']) === 'url') return publishedDigest(await openRemote(flags));
  const store = await openDbStore(flags.db!);
  try {
    const head = await store.readHead();
    const builder = new DigestBuilder();
    let timestamp = '';
    for await (const block of verifiableBlocks(store, head.height)) {
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
    for await (const block of verifiableBlocks(store, head.height)) {
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

function parseCli<S extends z.ZodType>(schema: S, value: unknown, context: string): z.output<S> {
  try {
    return parseOrThrow(schema, value, context);
  } catch (error) {
    if (error instanceof ValidationError) throw new CliExit(EXIT_USAGE, error.message);
    throw error;
  }
}

async function loadConsistency(flags: SourceFlags, from: number, to?: number): Promise<DigestConsistency> {
  if (chooseSource(flags, ['db', 'url']) === 'url') {
    const query = `from=${from}${to === undefined ? '' : `&to=${to}`}`;
    return getJson(await openRemote(flags), `ledger/consistency?${query}`, digestConsistencySchema);
  }
  const store = await openDbStore(flags.db!);
  try {
    return await new LedgerReader(store, { pageSize: 500 }).consistencyBetween(from, to);
  } catch (error) {
    if (error instanceof ValidationError) throw new CliExit(EXIT_USAGE, error.message);
    throw error;
  } finally {
    await store.close();
  }
}

/**
 * verify --digest old.json --consistency proof.json [--new-digest new.json]: that the chain summarised
 * by the newer digest extends the one the auditor kept, without the chain (docs/ledger-format.md
 * section 7.2). Exit 1 naming the problem when it does not.
 */
async function verifyConsistencyFile(flags: VerifyFlags): Promise<void> {
  if (flags.digest === undefined || flags.consistency === undefined) {
    throw new CliExit(
      EXIT_USAGE,
      '--consistency and --new-digest check a --digest file: give --digest and --consistency',
    );
  }
  const given = (['db', 'export', 'url'] as const).filter((k) => flags[k] !== undefined);
  if (given.length > 0)
    throw new CliExit(EXIT_USAGE, `--consistency checks a proof, not a chain: drop --${given[0]}`);
  const warn = (m: string) => console.error(`warning: ${m}`);
  const older = await readTrustedDigest(flags.digest, flags.publicKey, warn);
  const newer =
    flags.newDigest === undefined
      ? undefined
      : await readTrustedDigest(
          flags.newDigest,
          flags.publicKey !== undefined && (await isSigned(flags.newDigest)) ? flags.publicKey : undefined,
          warn,
        );
  const served = await readProofJson(flags.consistency);
  const check = checkDigestConsistency(older, served, newer);
  const report = check.valid
    ? { valid: true, problem: null, detail: null, from: check.from, to: check.to }
    : { valid: false, problem: check.problem, detail: check.detail };
  if (flags.json) console.log(JSON.stringify(report, null, 2));
  else
    console.log(
      check.valid
        ? `tree size ${check.to.tree_size} (head ${check.to.head_hash}) extends the trusted digest at tree size ${check.from.tree_size}`
        : `NOT consistent: ${check.problem}: ${check.detail}`,
    );
  if (!check.valid) throw new CliExit(EXIT_NEGATIVE, '');
}

async function isSigned(path: string): Promise<boolean> {
  const value = await readDigestJson(path);
  return typeof value === 'object' && value !== null && 'signature' in value;
}

/** A consistency proof file: not JSON or a repeated member name is malformed-proof (exit 1). */
async function readProofJson(path: string): Promise<unknown> {
  const text = await readText(path, 'consistency proof');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliExit(EXIT_NEGATIVE, `${path}: malformed-proof: not JSON: ${(error as Error).message}`);
  }
  const duplicate = duplicateMemberPath(text);
  if (duplicate !== null)
    throw new CliExit(EXIT_NEGATIVE, `${path}: malformed-proof: ${duplicate}: duplicate member name`);
  return value;
}
