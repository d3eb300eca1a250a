import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../errors';
import { type OpenbNode, type OpenbPod, parseOpenbNodes, parseOpenbPods } from './openb';

export const OPENB_NODE_FILE = 'openb_node_list_all_node.csv';
export const OPENB_POD_FILE = 'openb_pod_list_default.csv';

/**
 * Where the OpenB trace is looked for when no file is named: `../shared/traces` beside the
 * repository (the layout the project is developed in), then beside the working directory.
 * Returns null when it is in neither place: the trace is optional input.
 */
export function defaultTraceDir(): string | null {
  const candidates = [
    fileURLToPath(new URL('../../../shared/traces', import.meta.url)),
    resolve(process.cwd(), '../shared/traces'),
  ];
  return candidates.find((dir) => existsSync(join(dir, OPENB_NODE_FILE))) ?? null;
}

function readText(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new ValidationError([{ field, message: `cannot read ${path} (${reason})` }], 'invalid trace');
  }
}

/** Reads and validates both trace files; errors name the file, the line and the column. */
export function loadOpenbTrace(
  nodesPath: string,
  podsPath: string,
): { nodes: OpenbNode[]; pods: OpenbPod[] } {
  const nodes = parseOpenbNodes(readText(nodesPath, 'nodes'), nodesPath);
  const pods = parseOpenbPods(readText(podsPath, 'pods'), podsPath);
  return { nodes, pods };
}
