/** A shell block of a document, marked to be run by a test. */
export interface WalkthroughBlock {
  readonly name: string;
  readonly code: string;
}

/**
 * The ```sh blocks each preceded (on the line before the fence) by `<!-- KIND: NAME -->` (KIND
 * `walkthrough` by default; `production` marks the blocks for an account, run on the emulator by
 * tests/aws/teardown.test.ts), in document order. A marker without a block right after it is an error,
 * so a reflowed paragraph cannot silently drop a step.
 */
export function walkthroughBlocks(markdown: string, kind = 'walkthrough'): WalkthroughBlock[] {
  const blocks: WalkthroughBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const marker = new RegExp(`^<!-- ${kind}: ([a-z-]+) -->$`).exec(lines[i]!);
    if (!marker) continue;
    if (lines[i + 1] !== '```sh')
      throw new Error(`${kind} marker ${marker[1]} is not followed by a sh block`);
    const end = lines.indexOf('```', i + 2);
    if (end < 0) throw new Error(`${kind} block ${marker[1]} is not closed`);
    blocks.push({ name: marker[1]!, code: lines.slice(i + 2, end).join('\n') });
    i = end;
  }
  return blocks;
}
