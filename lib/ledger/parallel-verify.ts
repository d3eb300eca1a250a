import { open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { parseOrThrow } from '../errors';
import { chainHeadSchema } from './blocks';
import type { ChainVerification } from './chain-verifier';
import { digestSchema } from './digest';
import type { ByteRange } from './jsonl';
import { joinSlices } from './parallel-join';
import { type RangeSummary, verifyRange } from './parallel-range';
import { type VerifyChainOptions, verifyJsonlFile } from './verify';

export interface ParallelVerifyOptions extends VerifyChainOptions {
  /** Threads, one slice of the file each, the calling thread included; default: the CPUs available, at most 8. */
  workers?: number;
  /** Files smaller than this are verified on the calling thread (starting workers costs more). */
  minBytes?: number;
}

const DEFAULT_MIN_BYTES = 32 << 20;

/**
 * verifyJsonlFile using worker threads: the file is cut at line boundaries into one slice per worker,
 * each checks its blocks (schema, canonical form, Merkle root, block hash, links, derived ids) and the
 * calling thread joins the slices: heights and links across them, duplicate ids across them, the
 * digest, the expected head and the trusted digest. The Merkle and link checks compose, so a valid
 * chain gets the same report as verifyJsonlFile. When anything fails, the file is verified again
 * sequentially and that report is returned, so an invalid chain's report (first bad height, problem,
 * detail) is exactly verifyJsonlFile's too; only invalid chains pay for two passes.
 */
export async function verifyJsonlFileParallel(
  path: string,
  opts: ParallelVerifyOptions = {},
): Promise<ChainVerification> {
  const expectedHead = opts.expectedHead && parseOrThrow(chainHeadSchema, opts.expectedHead, 'expectedHead');
  const trusted = opts.trustedDigest && parseOrThrow(digestSchema, opts.trustedDigest, 'trustedDigest');
  const workers = opts.workers ?? Math.min(availableParallelism(), 8);
  const { size } = await stat(path);
  const sequential = () => verifyJsonlFile(path, opts);
  if (workers < 2 || size < (opts.minBytes ?? DEFAULT_MIN_BYTES)) return sequential();

  const ranges = await lineAlignedRanges(path, size, workers);
  const mode = opts.mode === 'reference' ? 'reference' : 'fast';
  // The calling thread takes the first slice itself: it would only wait otherwise, and one worker fewer
  // saves a thread start (loading tsx, zod and the ledger modules: about 0.4 CPU-s each, measured).
  const [own, ...others] = ranges;
  const summaries = await Promise.all([
    verifyRange(path, own!, mode),
    ...others.map((range) => runSlice(path, range, mode)),
  ]);
  return joinSlices(summaries, { expectedHead, trustedDigest: trusted }) ?? sequential();
}

function runSlice(path: string, range: ByteRange, mode: string): Promise<RangeSummary | null> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./parallel-worker.js', import.meta.url), {
      workerData: { path, start: range.start, end: range.end, mode },
    });
    let result: RangeSummary | null = null;
    worker.once('message', (message: RangeSummary | null) => {
      result = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code === 0) resolve(result);
      else reject(new Error(`ledger verify worker exited with code ${code}`));
    });
  });
}

/**
 * Up to `parts` non-empty ranges covering the file, each starting at a line's first byte: cut points
 * are spread evenly and moved forward to just past the next "\n".
 */
export async function lineAlignedRanges(path: string, size: number, parts: number): Promise<ByteRange[]> {
  const cuts = [0];
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64 << 10);
    for (let k = 1; k < parts; k++) {
      let at = Math.max(Math.floor((size * k) / parts), cuts[cuts.length - 1]!);
      let cut = -1;
      while (cut === -1 && at < size) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, at);
        if (bytesRead === 0) break;
        const newline = buffer.subarray(0, bytesRead).indexOf(0x0a);
        if (newline === -1) at += bytesRead;
        else cut = at + newline + 1;
      }
      if (cut !== -1 && cut < size && cut > cuts[cuts.length - 1]!) cuts.push(cut);
    }
  } finally {
    await file.close();
  }
  return cuts.map((start, i) => ({ start, end: cuts[i + 1] ?? size }));
}
