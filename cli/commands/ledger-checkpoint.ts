import { digestOfCheckpoint, openCheckpoint } from '../../lib/ledger/checkpoint';
import { NoteError, type NoteVerifier, parseVerifierKey } from '../../lib/ledger/signed-note';
import type { Digest } from '../../lib/ledger/types';
import { CliExit, EXIT_NEGATIVE, EXIT_USAGE } from '../exit';
import { openRemote, type RemoteFlags } from '../remote';
import { readText } from './ledger-signing';

export interface CheckpointFlags extends RemoteFlags {
  checkpoint?: string;
  logKey?: string;
  witness?: string[];
  quorum?: number;
}

function verifierKey(vkey: string, flag: string): NoteVerifier {
  try {
    return parseVerifierKey(vkey);
  } catch (error) {
    if (error instanceof NoteError) throw new CliExit(EXIT_USAGE, `${flag}: ${error.message}`);
    throw error;
  }
}

/** Whether the flags ask for a checkpoint check (docs/ledger-format.md section 12.4). */
export function wantsCheckpoint(flags: CheckpointFlags): boolean {
  return (
    flags.checkpoint !== undefined ||
    flags.logKey !== undefined ||
    (flags.witness?.length ?? 0) > 0 ||
    flags.quorum !== undefined
  );
}

/**
 * The digest a signed checkpoint vouches for, once its log signature verifies with --log-key and at
 * least --quorum of the --witness keys have cosigned it (default quorum: 1 with witnesses, else 0). The
 * checkpoint is the --checkpoint file, or GET /checkpoint of --url. A checkpoint that fails is exit 1
 * naming the problem (`bad-checkpoint`, `no-quorum`); bad flags are exit 2.
 */
export async function trustedCheckpointDigest(
  flags: CheckpointFlags,
  warn: (message: string) => void,
): Promise<{ digest: Digest; cosigned_by: string[] }> {
  if (flags.logKey === undefined) {
    throw new CliExit(
      EXIT_USAGE,
      '--log-key is required to check a checkpoint (GET /ledger/tlog lists the keys)',
    );
  }
  const logKey = verifierKey(flags.logKey, '--log-key');
  const witnesses = (flags.witness ?? []).map((k) => verifierKey(k, '--witness'));
  const quorum = flags.quorum ?? (witnesses.length > 0 ? 1 : 0);
  if (quorum > witnesses.length) {
    throw new CliExit(
      EXIT_USAGE,
      `--quorum ${quorum} is more than the ${witnesses.length} --witness keys given`,
    );
  }
  let note: string;
  if (flags.checkpoint !== undefined) note = await readText(flags.checkpoint, 'checkpoint');
  else if (flags.url !== undefined || flags.stack !== undefined) {
    note = await (await (await openRemote(flags)).get('/checkpoint')).text();
  } else throw new CliExit(EXIT_USAGE, 'give --checkpoint FILE or --url to read the checkpoint from');
  let opened: ReturnType<typeof openCheckpoint>;
  try {
    opened = openCheckpoint(note, logKey, witnesses, 0);
  } catch (error) {
    if (error instanceof NoteError) throw new CliExit(EXIT_NEGATIVE, `bad-checkpoint: ${error.message}`);
    throw error;
  }
  const names = [...new Set(opened.cosignatures.map((c) => c.name))];
  if (names.length < quorum) {
    throw new CliExit(
      EXIT_NEGATIVE,
      `no-quorum: the checkpoint of size ${opened.checkpoint.tree_size} has ${names.length} valid witness cosignatures (${names.join(', ') || 'none'}), the quorum is ${quorum}`,
    );
  }
  const digest = digestOfCheckpoint(opened.checkpoint);
  if (!digest)
    throw new CliExit(
      EXIT_NEGATIVE,
      'bad-checkpoint: it has no bcs-head, bcs-transactions and bcs-time lines',
    );
  if (names.length > 0) warn(`checkpoint of size ${digest.tree_size} cosigned by ${names.join(', ')}`);
  return { digest, cosigned_by: names };
}
