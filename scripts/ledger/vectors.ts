/**
 * The regression corpus of docs/ledger-format.md: one file per decided case under
 * tests/vectors/format/, valid and invalid, each with the expected verdict (problem and height). Run
 *   npx tsx scripts/ledger/vectors.ts
 * to rewrite them; never edit them by hand. tests/unit/ledger/format-vectors.test.ts fails when the files
 * differ from what this script generates, and runs every case through the fast and the reference
 * TypeScript verifiers and tests/independent/verify.py.
 *
 * Every case starts from the worked example chain (section 9) and changes one thing; chains whose
 * change is not the point of the case get their hashes recomputed, so that only the decided rule can
 * reject them. Signatures are deterministic (RFC 6979, @noble/curves) over fixed test keys, so the
 * corpus is reproducible byte for byte.
 */
import { createPublicKey } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { p256 } from '@noble/curves/nist.js';
import { blockHash } from '../../lib/ledger/blocks';
import { canonicalString } from '../../lib/ledger/canonical';
import { computeDigest, digestConsistencyProof } from '../../lib/ledger/digest';
import { sha256 } from '../../lib/ledger/hash';
import {
  SIGNED_DIGEST_FORMAT,
  SIGNED_DIGEST_FORMAT_V1,
  SIGNING_ALGORITHM,
  signedDigestStatement,
} from '../../lib/ledger/signed-digest';
import { transactionId, transactionsRootOfValidated } from '../../lib/ledger/transactions';
import type { Block, Digest, TaskOutcome, Transaction } from '../../lib/ledger/types';
import { exampleChain } from './example';

export const FORMAT_VERSION = 3;

export interface Expected {
  valid: boolean;
  problem: string | null;
  /** Chains only: the height the problem is reported at. */
  first_bad_height?: number | null;
}

export type Vector =
  | {
      kind: 'chain';
      name: string;
      description: string;
      /** The export as text, or as base64 when it is not UTF-8. */
      jsonl?: string;
      jsonl_base64?: string;
      trusted_digest?: Digest;
      expected: Expected;
    }
  | {
      kind: 'signed-digest';
      name: string;
      description: string;
      /** The digest file's exact text. */
      digest_text: string;
      public_key: string;
      expected: Expected;
    }
  | {
      kind: 'consistency';
      name: string;
      description: string;
      old: Digest;
      new: Digest;
      /** The served proof file's exact text ({from, to, proof}). */
      served_text: string;
      expected: Expected;
    };

type Chain = Block[];

/** `text` with its one occurrence of `from` replaced; throws when there is none, so no case goes stale. */
function sub(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`vector text has no ${from}`);
  return text.replace(from, to);
}

const copy = (chain: Chain): Chain => structuredClone(chain);
const lines = (chain: unknown[]): string => chain.map((b) => `${canonicalString(b)}\n`).join('');

/** Recomputes merkle_root, previous_hash and block_hash from height `from` on. */
function rehash(chain: Chain, from = 1): Chain {
  for (let h = from; h < chain.length; h++) {
    const b = chain[h]!;
    b.merkle_root = transactionsRootOfValidated(b.transactions);
    b.previous_hash = chain[h - 1]!.block_hash;
    b.block_hash = blockHash(b);
  }
  return chain;
}

function edit(mutate: (chain: Chain) => void, from = 1): Chain {
  const chain = copy(exampleChain());
  mutate(chain);
  return rehash(chain, from);
}

const tx = (chain: Chain, height: number, index: number): Transaction => chain[height]!.transactions[index]!;

/** The example's first assignment as one that took a 500 milli-GPU share of device 0 of two (section 2.4). */
function withDevices(chain: Chain): void {
  const t = tx(chain, 1, 0);
  t.task_requirements = { ...t.task_requirements, gpu: 500 };
  t.vm_state_before = { ...t.vm_state_before!, gpus: [0, 0] };
  t.vm_state_after = { ...t.vm_state_after!, gpus: [500, 0] };
  t.devices = [0];
}

/** withDevices, and the example's completion of that task freeing device 0 (section 2.4). */
function withDevicesClosed(chain: Chain): void {
  withDevices(chain);
  const t = tx(chain, 2, 0);
  t.task_requirements = { ...t.task_requirements, gpu: 500 };
  t.vm_state_before = { ...t.vm_state_before!, gpus: [500, 0] };
  t.vm_state_after = { ...t.vm_state_after!, gpus: [0, 0] };
  t.devices = [0];
}

/** The example with its completion (block 2) re-pointed at `taskId`, ids recomputed, as JSON Lines. */
const closingOf = (taskId: string): string =>
  lines(
    edit((c) => {
      Object.assign(tx(c, 2, 0), { task_id: taskId, transaction_id: transactionId(taskId, 'close') });
    }),
  );

/** SHA-256 of empty output, the outcome of a run that printed nothing. */
const EMPTY_OUTPUT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * Format 3 (section 2.5): every transaction of the example carries format_version 3, and the closing
 * of block 2 the outcome `outcome` with the status it implies (`status`, default completed).
 */
function withOutcome(chain: Chain, outcome: Partial<TaskOutcome> | null, status?: string): void {
  for (const t of [tx(chain, 1, 0), tx(chain, 1, 1), tx(chain, 2, 0)]) t.format_version = 3;
  const closing = tx(chain, 2, 0);
  if (outcome !== null) {
    closing.outcome = {
      exit_code: 0,
      signal: null,
      duration_ms: 1200,
      output_sha256: EMPTY_OUTPUT,
      ...outcome,
    };
  }
  if (status !== undefined) closing.status = status as Transaction['status'];
}

const invalid = (problem: string, height: number): Expected => ({
  valid: false,
  problem,
  first_bad_height: height,
});
const VALID: Expected = { valid: true, problem: null, first_bad_height: null };

function chainVectors(): Vector[] {
  const example = exampleChain();
  const v = (name: string, description: string, jsonl: string, expected: Expected): Vector => ({
    kind: 'chain',
    name,
    description,
    jsonl,
    expected,
  });
  const canonical = lines(example);
  const [line0, line1, line2] = canonical.split('\n') as [string, string, string];
  const emoji = '\u{1F600}';
  return [
    v('valid-example', 'the worked example of section 9', canonical, VALID),
    v(
      'valid-crlf-and-empty-lines',
      'CRLF line ends and empty lines are allowed (section 6.1)',
      `\n${line0}\r\n\r\n${line1}\r\n${line2}\r\n\n`,
      VALID,
    ),
    v(
      'valid-noncanonical-spelling',
      'member order, JSON whitespace and 1.0 for an integer do not matter: verifiers re-canonicalise (sections 1.1, 6)',
      `${line0}\n${JSON.stringify(JSON.parse(line1), null, 1).replaceAll('\n', ' ').replace('"active_tasks": 1', '"active_tasks": 1.0')}\n${line2}\n`,
      VALID,
    ),
    v(
      'valid-utf16-limits',
      'reason 4096, algorithm 128 and vm_id 256 UTF-16 code units (2048, 64 and 128 emoji) are at the limits',
      lines(
        edit((c) => {
          Object.assign(tx(c, 1, 0), {
            reason: emoji.repeat(2048),
            algorithm: emoji.repeat(64),
            vm_id: emoji.repeat(128),
          });
          tx(c, 2, 0).vm_id = emoji.repeat(128);
        }),
      ),
      VALID,
    ),
    v(
      'valid-integer-max',
      'active_tasks 2^53-1 is the largest integer (section 1.1)',
      lines(edit((c) => (tx(c, 1, 0).vm_state_after!.active_tasks = 2 ** 53 - 1))),
      VALID,
    ),
    v(
      'valid-year-0000-leap-day',
      'year 0000 is a leap year of the proleptic Gregorian calendar (section 2)',
      lines(edit((c) => (tx(c, 1, 1).timestamp = '0000-02-29T00:00:00.000Z'))),
      VALID,
    ),
    v(
      'reason-4098-units',
      'reason of 2049 emoji: 4098 UTF-16 code units, over 4096',
      lines(edit((c) => (tx(c, 1, 0).reason = emoji.repeat(2049)))),
      invalid('malformed', 1),
    ),
    v(
      'algorithm-130-units',
      'algorithm of 65 emoji: 130 UTF-16 code units, over 128',
      lines(edit((c) => (tx(c, 1, 0).algorithm = emoji.repeat(65)))),
      invalid('malformed', 1),
    ),
    v(
      'vm-id-258-units',
      'vm_id of 129 emoji: 258 UTF-16 code units, over 256',
      lines(
        edit((c) => {
          tx(c, 1, 0).vm_id = emoji.repeat(129);
          tx(c, 2, 0).vm_id = emoji.repeat(129);
        }),
      ),
      invalid('malformed', 1),
    ),
    v(
      'duplicate-member-transaction',
      'a "reason" inserted before the real one: JSON.parse keeps the last, other parsers the first (section 6.1)',
      sub(canonical, '"reason":"lowest', '"reason":"forged","reason":"lowest'),
      invalid('malformed', 1),
    ),
    v(
      'duplicate-member-escaped',
      'the same name spelled with an escape is the same name',
      sub(canonical, '"reason":"lowest', '"re\\u0061son":"forged","reason":"lowest'),
      invalid('malformed', 1),
    ),
    v(
      'duplicate-member-block',
      'a repeated block member, at the outer level',
      sub(canonical, '{"block_hash":"53', '{"height":7,"block_hash":"53'),
      invalid('malformed', 1),
    ),
    v(
      'integer-2-pow-53',
      'active_tasks 2^53 is outside the integer range (section 1.1)',
      lines(edit((c) => (tx(c, 1, 0).vm_state_after!.active_tasks = 2 ** 53))),
      invalid('malformed', 1),
    ),
    v(
      'height-as-string',
      'a height written as a string',
      sub(canonical, '"height":1,', '"height":"1",'),
      invalid('malformed', 1),
    ),
    v(
      'leap-second',
      'second 60 is not a valid timestamp (section 2)',
      lines(edit((c) => (tx(c, 1, 1).timestamp = '2016-12-31T23:59:60.000Z'))),
      invalid('malformed', 1),
    ),
    v(
      'february-30',
      'an impossible date',
      lines(edit((c) => (tx(c, 1, 1).timestamp = '2026-02-30T00:00:00.000Z'))),
      invalid('malformed', 1),
    ),
    v(
      'proto-member',
      'a resource vector with a "__proto__" member',
      lines(
        edit((c) =>
          Object.defineProperty(tx(c, 1, 1).task_requirements, '__proto__', { value: 1, enumerable: true }),
        ),
      ),
      invalid('malformed', 1),
    ),
    v(
      'whitespace-only-line',
      'a line of spaces is not an empty line: it is not JSON (section 6.1)',
      `${line0}\n   \n${line1}\n${line2}\n`,
      invalid('malformed', 1),
    ),
    v('empty-chain', 'an empty file: there is no genesis block', '', invalid('bad-genesis', 0)),
    v('only-empty-lines', 'empty lines only', '\n\r\n\n', invalid('bad-genesis', 0)),
    v(
      'blocks-out-of-order',
      'blocks must be in height order in the file',
      `${line0}\n${line2}\n${line1}\n`,
      invalid('height-gap', 1),
    ),
    v(
      'rejected-with-vm',
      'a rejected decision that names a VM (section 2.2)',
      lines(edit((c) => (tx(c, 1, 1).vm_id = 'vm-a'))),
      invalid('malformed', 1),
    ),
    v(
      'assigned-without-state',
      'an assigned decision without vm_state_after (section 2.2)',
      lines(edit((c) => (tx(c, 1, 0).vm_state_after = null))),
      invalid('malformed', 1),
    ),
    v(
      'valid-gpu-devices',
      'an assignment that took GPU device 0 of two: devices and per-device gpus (section 2.4)',
      lines(edit(withDevices)),
      VALID,
    ),
    v(
      'gpu-devices-wrong-use',
      'gpus after is not gpus before plus the share on the named device (section 2.4)',
      lines(
        edit((c) => {
          withDevices(c);
          tx(c, 1, 0).vm_state_after!.gpus = [400, 0];
        }),
      ),
      invalid('malformed', 1),
    ),
    v(
      'gpu-devices-on-rejection',
      'devices on a rejected decision (section 2.4)',
      lines(edit((c) => Object.assign(tx(c, 1, 1), { devices: [0] }))),
      invalid('malformed', 1),
    ),
    v(
      'gpu-devices-share-on-two',
      'a share of 500 spread over two devices: a share is on ONE device (section 2.4)',
      lines(
        edit((c) => {
          withDevices(c);
          const t = tx(c, 1, 0);
          t.devices = [0, 1];
          t.vm_state_after!.gpus = [250, 250];
        }),
      ),
      invalid('malformed', 1),
    ),
    v(
      'valid-gpu-devices-closing',
      'the completion of that task carries the device it frees, and gpus after is gpus before minus the share (section 2.4)',
      lines(edit(withDevicesClosed)),
      VALID,
    ),
    v(
      'valid-gpu-devices-closing-without-snapshots',
      'a completion whose VM left the fleet: devices without snapshots (section 2.4)',
      lines(
        edit((c) => {
          withDevicesClosed(c);
          Object.assign(tx(c, 2, 0), { vm_state_before: null, vm_state_after: null });
        }),
      ),
      VALID,
    ),
    v(
      'gpu-devices-closing-wrong-free',
      'a completion that frees less than the share on its device (section 2.4)',
      lines(
        edit((c) => {
          withDevicesClosed(c);
          tx(c, 2, 0).vm_state_after!.gpus = [100, 0];
        }),
      ),
      invalid('malformed', 2),
    ),
    v(
      'gpu-devices-closing-below-zero',
      'a completion that frees a device holding less than the share, its use floored at 0 (section 2.4)',
      lines(
        edit((c) => {
          withDevicesClosed(c);
          const t = tx(c, 2, 0);
          t.devices = [1];
          t.vm_state_before!.gpus = [500, 200];
          t.vm_state_after!.gpus = [500, 0];
        }),
      ),
      invalid('malformed', 2),
    ),
    v(
      'gpu-devices-closing-without-gpus',
      'a completion with snapshots and devices but no per-device gpus (section 2.4)',
      lines(
        edit((c) => {
          withDevicesClosed(c);
          const t = tx(c, 2, 0);
          delete t.vm_state_before!.gpus;
          delete t.vm_state_after!.gpus;
        }),
      ),
      invalid('malformed', 2),
    ),
    v(
      'valid-format-3-completed',
      'format 3: every transaction has format_version 3, the closing the outcome of a run that exited 0 (section 2.5)',
      lines(edit((c) => withOutcome(c, {}))),
      VALID,
    ),
    v(
      'valid-format-3-failed-exit',
      'format 3: a failed closing with exit code 3 (section 2.5)',
      lines(edit((c) => withOutcome(c, { exit_code: 3 }, 'failed'))),
      VALID,
    ),
    v(
      'valid-format-3-failed-signal',
      'format 3: a failed closing ended by SIGKILL, no exit code (section 2.5)',
      lines(edit((c) => withOutcome(c, { exit_code: null, signal: 'SIGKILL' }, 'failed'))),
      VALID,
    ),
    v(
      'valid-format-3-completed-without-outcome',
      'format 3: a completion reported without its outcome (section 2.5)',
      lines(edit((c) => withOutcome(c, null))),
      VALID,
    ),
    v(
      'valid-format-mixed',
      'a format-3 closing of a format-1 decision: versions are per transaction (section 2.5)',
      lines(
        edit((c) => {
          withOutcome(c, {});
          delete tx(c, 1, 0).format_version;
        }),
      ),
      VALID,
    ),
    v(
      'failed-exit-0',
      'failed with exit code 0 (section 2.5)',
      lines(edit((c) => withOutcome(c, {}, 'failed'))),
      invalid('malformed', 2),
    ),
    v(
      'completed-exit-1',
      'completed with a non-zero exit code: it failed (section 2.5)',
      lines(edit((c) => withOutcome(c, { exit_code: 1 }))),
      invalid('malformed', 2),
    ),
    v(
      'completed-signal',
      'completed with a signal: it failed (section 2.5)',
      lines(edit((c) => withOutcome(c, { exit_code: null, signal: 'SIGTERM' }))),
      invalid('malformed', 2),
    ),
    v(
      'failed-without-outcome',
      'failed without an outcome (section 2.5)',
      lines(edit((c) => withOutcome(c, null, 'failed'))),
      invalid('malformed', 2),
    ),
    v(
      'outcome-exit-and-signal',
      'an outcome with both an exit code and a signal (section 2.5)',
      lines(edit((c) => withOutcome(c, { exit_code: 1, signal: 'SIGKILL' }, 'failed'))),
      invalid('malformed', 2),
    ),
    v(
      'outcome-neither-exit-nor-signal',
      'an outcome with neither an exit code nor a signal (section 2.5)',
      lines(edit((c) => withOutcome(c, { exit_code: null }, 'failed'))),
      invalid('malformed', 2),
    ),
    v(
      'outcome-exit-256',
      'exit code 256 is out of range (section 2.5)',
      lines(edit((c) => withOutcome(c, { exit_code: 256 }, 'failed'))),
      invalid('malformed', 2),
    ),
    v(
      'outcome-bad-signal',
      'a signal that is not a signal name (section 2.5)',
      lines(edit((c) => withOutcome(c, { exit_code: null, signal: 'kill' }, 'failed'))),
      invalid('malformed', 2),
    ),
    v(
      'outcome-duration-fraction',
      'duration_ms 1.5 is not an integer (section 2.5)',
      lines(edit((c) => withOutcome(c, { duration_ms: 1.5 }))),
      invalid('malformed', 2),
    ),
    v(
      'outcome-uppercase-hash',
      'output_sha256 in uppercase hex (section 2.5)',
      lines(edit((c) => withOutcome(c, { output_sha256: EMPTY_OUTPUT.toUpperCase() }))),
      invalid('malformed', 2),
    ),
    v(
      'outcome-extra-member',
      'an outcome with a member not in section 2.5',
      lines(
        edit((c) => {
          withOutcome(c, {});
          (tx(c, 2, 0).outcome as unknown as Record<string, unknown>).stdout = 'ok';
        }),
      ),
      invalid('malformed', 2),
    ),
    v(
      'outcome-without-format-version',
      'an outcome on a transaction without format_version (formats 1 and 2 have none; section 2.5)',
      lines(
        edit((c) => {
          withOutcome(c, {});
          delete tx(c, 2, 0).format_version;
        }),
      ),
      invalid('malformed', 2),
    ),
    v(
      'failed-without-format-version',
      'failed on a transaction without format_version (section 2.5)',
      lines(
        edit((c) => {
          withOutcome(c, { exit_code: 2 }, 'failed');
          delete tx(c, 2, 0).format_version;
          delete tx(c, 2, 0).outcome;
        }),
      ),
      invalid('malformed', 2),
    ),
    v(
      'format-version-4',
      'a format_version this format does not define (section 2.5)',
      lines(edit((c) => (tx(c, 1, 1).format_version = 4))),
      invalid('malformed', 1),
    ),
    v(
      'outcome-on-expired',
      'an expired closing with an outcome: only a reported run has one (section 2.5)',
      lines(edit((c) => withOutcome(c, {}, 'expired'))),
      invalid('malformed', 2),
    ),
    v(
      'outcome-on-assigned',
      'an assigned decision with an outcome (section 2.5)',
      lines(
        edit((c) => {
          withOutcome(c, null);
          tx(c, 1, 0).outcome = { exit_code: 0, signal: null, duration_ms: 1, output_sha256: EMPTY_OUTPUT };
        }),
      ),
      invalid('malformed', 1),
    ),
    v(
      'closing-with-score',
      'a closing with a score (section 2.2)',
      lines(edit((c) => (tx(c, 2, 0).score = 1))),
      invalid('malformed', 2),
    ),
    v(
      'closing-without-decision',
      'a completion of a task the chain never decided (section 2.2)',
      closingOf('t-9'),
      invalid('unmatched-closing', 2),
    ),
    v(
      'closing-of-rejection',
      'a completion of a rejected task',
      closingOf('t-2'),
      invalid('unmatched-closing', 2),
    ),
    v(
      'closing-on-another-vm',
      'a completion on another VM than the assignment',
      lines(edit((c) => (tx(c, 2, 0).vm_id = 'vm-b'))),
      invalid('unmatched-closing', 2),
    ),
    v(
      'closing-before-decision',
      'a closing earlier in the chain than its decision',
      lines(
        edit((c) => {
          const closing = c[2]!.transactions.pop()!;
          c[1]!.transactions.unshift(closing);
          c[1]!.transaction_count = 3;
          c.pop();
        }),
      ),
      invalid('unmatched-closing', 1),
    ),
    {
      kind: 'chain',
      name: 'chain-shorter-than-digest',
      description:
        'a chain that ends before the trusted digest: reported at the first missing height (section 7)',
      jsonl: `${line0}\n${line1}\n`,
      trusted_digest: computeDigest(example, example[2]!.timestamp),
      expected: invalid('digest-mismatch', 2),
    },
    {
      kind: 'chain',
      name: 'valid-against-digest',
      description: 'a chain that extends the trusted digest',
      jsonl: canonical,
      trusted_digest: computeDigest(example.slice(0, 2), example[1]!.timestamp),
      expected: VALID,
    },
    {
      kind: 'chain',
      name: 'not-utf8',
      description: 'bytes that are not UTF-8 in block 2 are malformed, not a wrong hash (section 6.1)',
      jsonl_base64: Buffer.concat([
        Buffer.from(`${line0}\n${line1}\n`),
        Buffer.from(sub(line2, 'completed after', 'compl@ted after')).map((b) => (b === 0x40 ? 0xff : b)),
        Buffer.from('\n'),
      ]).toString('base64'),
      expected: invalid('malformed', 2),
    },
  ];
}

// Fixed test keys (never used for anything else): the scalar is SHA-256 of a label.
function testKey(label: string): { secret: Uint8Array; pem: string; fingerprint: string } {
  const secret = sha256(new TextEncoder().encode(label));
  const point = p256.getPublicKey(secret, false);
  const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33)) },
    format: 'jwk',
  });
  const der = key.export({ type: 'spki', format: 'der' });
  return {
    secret,
    pem: key.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: `sha256:${Buffer.from(sha256(der)).toString('hex')}`,
  };
}

const N = p256.Point.CURVE().n;

function sign(statement: Record<string, unknown>, secret: Uint8Array, s: 'low' | 'high' = 'low'): string {
  const compact = p256.sign(signedDigestStatement(statement as never), secret, { lowS: true });
  const sig = p256.Signature.fromBytes(compact, 'compact');
  const chosen = s === 'low' ? sig : new p256.Signature(sig.r, N - sig.s);
  return Buffer.from(chosen.toBytes('der')).toString('base64');
}

function signedDigestVectors(): Vector[] {
  const key = testKey('bcs ledger format test key 1');
  const other = testKey('bcs ledger format test key 2');
  const digest = computeDigest(exampleChain(), '2026-11-21T06:10:00.000Z');
  const unsigned = {
    ...digest,
    format: SIGNED_DIGEST_FORMAT,
    key_id: key.fingerprint,
    signing_algorithm: SIGNING_ALGORITHM,
  };
  const good = { ...unsigned, signature: sign(unsigned, key.secret) };
  const v = (
    name: string,
    description: string,
    value: unknown,
    expected: Expected,
    publicKey = key.pem,
  ): Vector => ({
    kind: 'signed-digest',
    name: `signed-${name}`,
    description,
    digest_text: typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`,
    public_key: publicKey,
    expected,
  });
  const bad = (problem: string): Expected => ({ valid: false, problem });
  const ok: Expected = { valid: true, problem: null };
  const resigned = (fields: Record<string, unknown>, secret = key.secret) => {
    const statement = { ...unsigned, ...fields };
    return { ...statement, signature: sign(statement, secret) };
  };
  const { key_id: _k, ...withoutKeyId } = good;
  const legacyArn = {
    ...unsigned,
    format: SIGNED_DIGEST_FORMAT_V1,
    key_id: 'arn:aws:kms:eu-west-1:000000000000:key/00000000-0000-4000-8000-000000000000',
  };
  const der = Buffer.from(good.signature, 'base64');
  // BER, not DER: the sequence length in the long form (0x81 nn).
  const ber = Buffer.concat([der.subarray(0, 1), Buffer.from([0x81]), der.subarray(1)]);
  return [
    v('valid', 'a format-2 digest, low-S, key_id the fingerprint of the key', good, ok),
    v(
      'valid-v1-arn',
      'format 1 with a KMS ARN as key_id still verifies; its key_id cannot be bound (section 10.1)',
      { ...legacyArn, signature: sign(legacyArn, key.secret, 'high') },
      ok,
    ),
    v(
      'high-s',
      'the high-S twin (r, n - s) of a valid signature',
      { ...good, signature: sign(unsigned, key.secret, 'high') },
      bad('high-s-signature'),
    ),
    v(
      'key-id-of-another-key',
      're-signed by another key, key_id still naming the first; checked with the signing key',
      resigned({}, other.secret),
      bad('key-id-mismatch'),
      other.pem,
    ),
    v(
      'v1-fingerprint-of-another-key',
      'format 1 whose fingerprint key_id names another key than the one that signed',
      resigned({ format: SIGNED_DIGEST_FORMAT_V1 }, other.secret),
      bad('key-id-mismatch'),
      other.pem,
    ),
    v('wrong-key', 'a valid digest checked with another public key', good, bad('key-id-mismatch'), other.pem),
    v(
      'altered-blocks-root',
      'a signed member changed after signing',
      { ...good, blocks_root: 'a'.repeat(64) },
      bad('bad-signature'),
    ),
    v(
      'ber-signature',
      'a BER (long-form length) encoding of a valid signature',
      { ...good, signature: ber.toString('base64') },
      bad('bad-signature'),
    ),
    v('format-3', 'an unknown format', resigned({ format: 'bcs-signed-digest/3' }), bad('malformed-digest')),
    v('missing-key-id', 'no key_id member', withoutKeyId, bad('malformed-digest')),
    v(
      'arn-key-id-v2',
      'format 2 requires the fingerprint as key_id',
      resigned({ key_id: legacyArn.key_id }),
      bad('malformed-digest'),
    ),
    v(
      'unpadded-signature',
      'base64 without its padding',
      { ...good, signature: good.signature.replace(/=+$/, '') },
      bad('malformed-digest'),
    ),
    v(
      'tree-size-not-height-plus-1',
      'tree_size must be height + 1',
      resigned({ tree_size: 7 }),
      bad('malformed-digest'),
    ),
    v('extra-member', 'a member the format does not define', { ...good, note: 'x' }, bad('malformed-digest')),
    v('height-as-string', 'height written as a string', { ...good, height: '2' }, bad('malformed-digest')),
    v(
      'duplicate-member',
      'a repeated member name',
      `${JSON.stringify(good).replace('{"height"', '{"height":1,"height"')}\n`,
      bad('malformed-digest'),
    ),
    v('not-json', 'not JSON at all', '{"height": 2,\n', bad('malformed-digest')),
  ];
}

function consistencyVectors(): Vector[] {
  const chain = exampleChain();
  const hashes = chain.map((b) => b.block_hash);
  const at = (n: number) => computeDigest(chain.slice(0, n), chain[n - 1]!.timestamp);
  const served = (from: number, to: number, proof = digestConsistencyProof(hashes.slice(0, to), from)) => ({
    from: at(from),
    to: at(to),
    proof,
  });
  const v = (
    name: string,
    description: string,
    old: Digest,
    neu: Digest,
    body: unknown,
    expected: Expected,
  ): Vector => ({
    kind: 'consistency',
    name: `consistency-${name}`,
    description,
    old,
    new: neu,
    served_text: typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`,
    expected,
  });
  const bad = (problem: string): Expected => ({ valid: false, problem });
  const ok: Expected = { valid: true, problem: null };
  const good = served(2, 3);
  return [
    v('valid-2-to-3', 'the proof of section 9', at(2), at(3), good, ok),
    v('valid-1-to-3', 'from genesis alone', at(1), at(3), served(1, 3), ok),
    v('valid-equal', 'equal sizes: an empty proof', at(3), at(3), served(3, 3), ok),
    v(
      'wrong-node',
      'a proof node changed',
      at(2),
      at(3),
      { ...good, proof: ['0'.repeat(64)] },
      bad('inconsistent-with-digest'),
    ),
    v(
      'truncated',
      'a proof with its node removed',
      at(2),
      at(3),
      { ...good, proof: [] },
      bad('inconsistent-with-digest'),
    ),
    v(
      'other-old-digest',
      'the proof starts at another digest than the one kept',
      at(1),
      at(3),
      good,
      bad('inconsistent-with-digest'),
    ),
    v(
      'proof-not-a-list',
      'proof is not a list of hashes',
      at(2),
      at(3),
      { ...good, proof: 'x' },
      bad('malformed-proof'),
    ),
  ];
}

export function formatVectors(): Vector[] {
  return [...chainVectors(), ...signedDigestVectors(), ...consistencyVectors()];
}

/** The file text of each vector, by file name. */
export function vectorFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const vector of formatVectors()) {
    const file = `${vector.name}.json`;
    if (files.has(file)) throw new Error(`two vectors named ${vector.name}`);
    files.set(file, `${JSON.stringify({ format_version: FORMAT_VERSION, ...vector }, null, 2)}\n`);
  }
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = new URL('../../tests/vectors/format/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  for (const old of readdirSync(dir)) if (old.endsWith('.json')) rmSync(new URL(old, dir));
  const files = vectorFiles();
  for (const [name, text] of files) writeFileSync(new URL(name, dir), text);
  console.log(`wrote ${files.size} vectors to tests/vectors/format/`);
}
