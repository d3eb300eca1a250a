/**
 * Resources are a vector of named dimensions. The units are fixed here, once, and used everywhere
 * (HTTP payloads, ledger transactions, fleet sources, simulations).
 */
export const DEFAULT_DIMENSIONS = ['cpu', 'mem', 'io', 'bw'] as const;

/** Unit of each known dimension. A configured extra dimension without an entry here is unitless. */
export const UNITS = {
  cpu: 'millicores',
  mem: 'MiB',
  io: 'MB/s',
  bw: 'Mbit/s',
  gpu: 'milli-GPU',
} as const satisfies Record<string, string>;

/** Amounts per dimension, in the units above. Every configured dimension is present (0 when unused). */
export type ResourceVector = Record<string, number>;

/** The ordered list of dimensions a deployment schedules on (e.g. ['cpu','mem','io','bw','gpu']). */
export type Dimensions = readonly string[];

export function zeroVector(dimensions: Dimensions): ResourceVector {
  const v: ResourceVector = {};
  for (const d of dimensions) v[d] = 0;
  return v;
}
