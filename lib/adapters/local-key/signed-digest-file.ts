import { appendFile, readFile } from 'node:fs/promises';
import type { SignedDigest } from '../../ledger/signed-digest';
import type { SignedDigestLog } from '../../ports/signed-digest-log';

/**
 * Signed digests as lines of a JSON Lines file in the data directory (signed-digests.jsonl), the
 * local runtime's counterpart of the DIGEST# items on AWS. The runtime appends a digest only when the
 * chain grew, so the last line is the latest. Whatever is read back is handed on as it is, a line that
 * is not JSON as its text: the caller checks it against the key (a line is only as good as its
 * signature). The whole file is read per call: one line per signing interval stays small.
 */
export class SignedDigestFile implements SignedDigestLog {
  constructor(readonly path: string) {}

  async latest(): Promise<SignedDigest | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    const last = lines.at(-1);
    if (last === undefined) return null;
    try {
      return JSON.parse(last) as SignedDigest;
    } catch {
      return last as unknown as SignedDigest;
    }
  }

  async publish(signed: SignedDigest): Promise<void> {
    await appendFile(this.path, `${JSON.stringify(signed)}\n`, { mode: 0o644 });
  }
}
