import type { WitnessAnswer, WitnessClient } from '../../ports/witness';

/** The largest answer read from a witness: a few signature lines (post-quantum ones are ~3.3 KB each). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * tlog-witness over HTTP with the platform's fetch (Node 20 and Lambda alike). Answers are mapped
 * as the protocol defines them: 200 cosignature lines, 409 with the witness's size in
 * text/x.tlog.size, anything else a refusal with the status and the start of the body.
 */
export class HttpWitnessClient implements WitnessClient {
  async addCheckpoint(url: string, body: string, signal?: AbortSignal): Promise<WitnessAnswer> {
    const response = await fetch(`${url.replace(/\/+$/, '')}/add-checkpoint`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      ...(signal ? { signal } : {}),
    });
    const text = (await response.text()).slice(0, MAX_ANSWER_BYTES);
    if (response.status === 200) return { kind: 'cosigned', signatures: text };
    if (response.status === 409) {
      const size = text.trim();
      if (/^(0|[1-9][0-9]{0,15})$/.test(size)) return { kind: 'conflict', treeSize: Number(size) };
    }
    return { kind: 'refused', status: response.status, message: text.trim().slice(0, 200) };
  }
}
