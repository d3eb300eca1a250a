/**
 * A transparency-log witness spoken to over C2SP tlog-witness (https://c2sp.org/tlog-witness):
 * `POST <url>/add-checkpoint` with the old size, a consistency proof and the signed checkpoint. The
 * adapter (lib/adapters/witness) maps the HTTP answer onto these cases; it never throws for an answer,
 * only for a witness it cannot reach.
 */
export type WitnessAnswer =
  /** 200: the cosignature lines (each `— <name> <base64>` and a newline). */
  | { kind: 'cosigned'; signatures: string }
  /** 409: the witness's latest cosigned tree size is another one (text/x.tlog.size). */
  | { kind: 'conflict'; treeSize: number }
  /** Any other status: 403 unknown key or bad signature, 404 unknown origin, 422 bad proof, ... */
  | { kind: 'refused'; status: number; message: string };

export interface WitnessClient {
  /** Sends one add-checkpoint request body to the witness at `url` (its submission prefix). */
  addCheckpoint(url: string, body: string, signal?: AbortSignal): Promise<WitnessAnswer>;
}
