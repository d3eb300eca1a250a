import { ValidationError } from '../errors';
import { checkpointOf, checkpointText } from '../ledger/checkpoint';
import {
  NoteError,
  type NoteSigner,
  type NoteVerifier,
  openNote,
  parseSignatureLine,
  parseVerifierKey,
  signNote,
} from '../ledger/signed-note';
import type { Digest } from '../ledger/types';
import type { WitnessClient } from '../ports/witness';

/** A witness the log submits its checkpoints to: its submission URL and its cosigning key. */
export interface WitnessConfig {
  url: string;
  /** The witness's verifier key (vkey, cosignature/v1 type 0x04). */
  key: NoteVerifier;
}

/** What the log knows of one witness (GET /ledger/witnesses, the metrics). */
export interface WitnessStatus {
  name: string;
  url: string;
  /** The tree size the witness last cosigned, as far as the log knows (0 before any). */
  tree_size: number;
  cosigned: number;
  failures: number;
  last_cosigned_at: string | null;
  last_error: string | null;
}

export interface PublishedCheckpoint {
  digest: Digest;
  /** The checkpoint text (the note's signed part). */
  text: string;
  /** The signed note served at GET /checkpoint: the log's signatures, then the witnesses' cosignatures. */
  note: string;
  /** Witness names that cosigned it. */
  cosigned_by: string[];
}

export interface CheckpointerOptions {
  origin: string;
  /** The log's note signers (ECDSA P-256 first; an Ed25519 key when witnesses are used). */
  signers: readonly NoteSigner[];
  /** The current digest of the chain. */
  digest: () => Promise<Digest>;
  /** RFC 6962 consistency proof between two tree sizes (old <= new <= the current size). */
  consistency: (oldSize: number, newSize: number) => Promise<Uint8Array[]>;
  witnesses?: readonly WitnessConfig[];
  witnessClient?: WitnessClient;
  /** Per-witness request timeout. Default 5 s. */
  witnessTimeoutMs?: number;
  now: () => number;
  log: (message: string) => void;
  /** Called after each witness request (for metrics): ok or not. */
  onWitnessResult?: (witness: string, ok: boolean) => void;
}

/**
 * Makes and keeps the log's checkpoint (lib/ledger/checkpoint.ts): when the chain has grown, signs a new
 * checkpoint, submits it to every witness over tlog-witness with the consistency proof from the size the
 * witness last cosigned, keeps the cosignatures that verify with the witness's key, and publishes the
 * result. A witness that is down, slow or refuses is logged and counted and the checkpoint is
 * published without its cosignature: witnessing never blocks the log (and never the scheduler, which
 * does not wait on this at all). Publications are serialised, so witnesses see sizes in order.
 */
export class Checkpointer {
  private published: PublishedCheckpoint | null = null;
  private running: Promise<PublishedCheckpoint> | null = null;
  private readonly status = new Map<string, WitnessStatus>();

  constructor(private readonly options: CheckpointerOptions) {
    for (const w of options.witnesses ?? []) {
      this.status.set(w.url, {
        name: w.key.name,
        url: w.url,
        tree_size: 0,
        cosigned: 0,
        failures: 0,
        last_cosigned_at: null,
        last_error: null,
      });
    }
  }

  get origin(): string {
    return this.options.origin;
  }

  /** The latest published checkpoint; publishes one first if there is none yet. */
  async latest(): Promise<PublishedCheckpoint> {
    return this.published ?? this.publish();
  }

  /** Publishes a checkpoint of the current chain if it grew since the last one (single flight). */
  publish(): Promise<PublishedCheckpoint> {
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  witnessStatus(): WitnessStatus[] {
    return [...this.status.values()].map((s) => ({ ...s }));
  }

  private async run(): Promise<PublishedCheckpoint> {
    const digest = await this.options.digest();
    if (this.published && this.published.digest.tree_size === digest.tree_size) return this.published;
    if (this.published && this.published.digest.tree_size > digest.tree_size) {
      // A log must never sign a checkpoint inconsistent with one it signed: a shrunken chain stops here.
      throw new RangeError(
        `the chain has ${digest.tree_size} blocks, fewer than the ${this.published.digest.tree_size} of the last checkpoint`,
      );
    }
    const text = checkpointText(checkpointOf(this.options.origin, digest));
    const signed = await signNote(text, this.options.signers);
    const cosignatures = await this.witness(signed, text, digest.tree_size);
    const published: PublishedCheckpoint = {
      digest,
      text,
      note: signed + cosignatures.map((c) => c.line).join(''),
      cosigned_by: cosignatures.map((c) => c.name),
    };
    this.published = published;
    return published;
  }

  private async witness(note: string, text: string, size: number): Promise<{ name: string; line: string }[]> {
    const { witnesses = [], witnessClient } = this.options;
    if (witnesses.length === 0 || !witnessClient) return [];
    const results = await Promise.all(
      witnesses.map(async (w) => {
        const status = this.status.get(w.url)!;
        try {
          const line = await this.submit(w, status, note, text, size, witnessClient);
          status.cosigned += 1;
          status.tree_size = size;
          status.last_cosigned_at = new Date(this.options.now()).toISOString();
          status.last_error = null;
          this.options.onWitnessResult?.(w.key.name, true);
          return { name: w.key.name, line };
        } catch (error) {
          status.failures += 1;
          status.last_error = error instanceof Error ? error.message : String(error);
          this.options.log(
            `witness ${w.key.name} (${w.url}) did not cosign size ${size}: ${status.last_error}`,
          );
          this.options.onWitnessResult?.(w.key.name, false);
          return null;
        }
      }),
    );
    return results.filter((r): r is { name: string; line: string } => r !== null);
  }

  /** One witness: add-checkpoint from the size it last cosigned; on 409 once more from the size it names. */
  private async submit(
    w: WitnessConfig,
    status: WitnessStatus,
    note: string,
    text: string,
    size: number,
    client: WitnessClient,
  ): Promise<string> {
    let old = status.tree_size;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (old > size) {
        throw new Error(
          `the witness has cosigned size ${old}, larger than this checkpoint's ${size}: the ledger was rolled back or forked`,
        );
      }
      const proof = old === 0 || old === size ? [] : await this.options.consistency(old, size);
      const lines = proof.map((h) => `${Buffer.from(h).toString('base64')}\n`).join('');
      const body = `old ${old}\n${lines}\n${note}`;
      const answer = await client.addCheckpoint(
        w.url,
        body,
        AbortSignal.timeout(this.options.witnessTimeoutMs ?? 5000),
      );
      if (answer.kind === 'conflict') {
        status.tree_size = answer.treeSize;
        old = answer.treeSize;
        continue;
      }
      if (answer.kind === 'refused') throw new Error(`HTTP ${answer.status}: ${answer.message}`);
      // Keep only this witness's cosignature, and only if it verifies over this checkpoint.
      const opened = openNote(`${text}\n${answer.signatures}`, [w.key]);
      if (opened.verified.length === 0) throw new Error('its answer carries no cosignature by its key');
      const line = answer.signatures.split('\n').find((l) => {
        const sig = parseSignatureLine(l);
        return sig !== null && sig.name === w.key.name && sig.keyHash === w.key.keyHash;
      });
      return `${line}\n`;
    }
    throw new Error(`the witness's size kept changing (last ${old})`);
  }
}

/** Witnesses as configured (URL and vkey), each key parsed: a bad one is a ValidationError naming witnesses.<i>.key. */
export function parseWitnesses(witnesses: readonly { url: string; key: string }[]): WitnessConfig[] {
  return witnesses.map((w, i) => {
    try {
      return { url: w.url, key: parseVerifierKey(w.key) };
    } catch (error) {
      if (!(error instanceof NoteError)) throw error;
      throw new ValidationError(
        [{ field: `witnesses.${i}.key`, message: error.message }],
        'invalid configuration',
      );
    }
  });
}
