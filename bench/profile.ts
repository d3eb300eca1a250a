import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import * as z from 'zod';
import { parseOrThrow } from '../lib/errors';

/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time per function, largest first, optionally
 * only under one function (e.g. verifyChain), so a report can say which function of which module
 * the time goes to.
 *
 *   node --import tsx bench/profile.ts PROFILE.cpuprofile [--top 20] [--under verifyChain]
 */

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

export interface FunctionCost {
  name: string;
  location: string;
  selfMs: number;
  share: number;
}

/**
 * Self time per function, largest first. With `under`, only samples taken while a function of that
 * name was on the stack count, and shares are of that function's inclusive time.
 */
export function summarise(
  path: string,
  top = 20,
  under?: string,
): { totalMs: number; functions: FunctionCost[] } {
  const profile = parseOrThrow(profileSchema, JSON.parse(readFileSync(path, 'utf8')), path);
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const inside = (id: number): boolean => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      if (frames.get(cur)?.functionName === under) return true;
    }
    return false;
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    if (under !== undefined && !inside(id)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byFunction = new Map<string, FunctionCost>();
  let totalUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.startsWith('file://') ? relative(process.cwd(), new URL(url).pathname) : url;
    const location = file === '' ? '(native)' : `${file}:${lineNumber + 1}`;
    const name = functionName || '(anonymous)';
    const key = `${name}@${location}`;
    const entry = byFunction.get(key) ?? { name, location, selfMs: 0, share: 0 };
    entry.selfMs += us / 1000;
    byFunction.set(key, entry);
  }
  const functions = [...byFunction.values()]
    .map((f) => ({ ...f, share: totalUs > 0 ? f.selfMs / (totalUs / 1000) : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, top);
  return { totalMs: totalUs / 1000, functions };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [path, ...rest] = process.argv.slice(2);
  if (path === undefined) {
    process.stderr.write('usage: bench/profile.ts PROFILE.cpuprofile [--top N] [--under FUNCTION]\n');
    process.exit(2);
  }
  const flag = (name: string) => {
    const at = rest.indexOf(name);
    return at >= 0 ? rest[at + 1] : undefined;
  };
  const { totalMs, functions } = summarise(path, Number(flag('--top') ?? 20), flag('--under'));
  process.stdout.write(`total ${totalMs.toFixed(0)} ms sampled\n`);
  for (const f of functions) {
    process.stdout.write(
      `${(100 * f.share).toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}  ${f.location}\n`,
    );
  }
}
