import type { Block } from './types';

/**
 * Largest GET /ledger/blocks body, in bytes of the Lambda proxy response it travels in: Lambda refuses a
 * synchronous response over 6 MB (6,291,456 bytes), and the body is a JSON string inside that response,
 * so each of its quotes and backslashes counts twice. 64 KB are left for the status, the headers and the
 * envelope.
 */
export const MAX_BLOCKS_PAGE_BYTES = 6 * 1024 * 1024 - 64 * 1024;

/**
 * The page GET /ledger/blocks answers: the blocks read, cut after the longest prefix whose response stays
 * within `maxBytes` (counted as the body escaped into the proxy response), never fewer than one block (a
 * DynamoDB block item is at most 400 KB). A client reads on from the height after the last block it got,
 * so a shorter page only means more requests.
 */
export function blocksPage(
  height: number,
  blocks: readonly Block[],
  maxBytes = MAX_BLOCKS_PAGE_BYTES,
): { height: number; blocks: Block[] } {
  // The envelope `{"height":N,"blocks":[]}`, escaped.
  let bytes = escapedBytes(JSON.stringify({ height, blocks: [] }));
  const page: Block[] = [];
  for (const block of blocks) {
    // One separating comma per block after the first.
    const size = escapedBytes(JSON.stringify(block)) + (page.length > 0 ? 1 : 0);
    if (page.length > 0 && bytes + size > maxBytes) break;
    bytes += size;
    page.push(block);
  }
  return { height, blocks: page };
}

/** UTF-8 bytes of `json` once written as a JSON string (the proxy response's body), quotes excluded. */
function escapedBytes(json: string): number {
  return Buffer.byteLength(JSON.stringify(json)) - 2;
}
