import { ValidationError } from '../errors';
import type { PlacementAlgorithm } from './algorithm';
import { BestFitAlgorithm } from './algorithms/best-fit';
import { BlockchainAlgorithm } from './algorithms/blockchain';
import { FgdAlgorithm } from './algorithms/fgd';
import { LeastConnectionsAlgorithm } from './algorithms/least-connections';
import { LeastLoadedAlgorithm } from './algorithms/least-loaded';
import { DEFAULT_SEED, PowerOfTwoChoicesAlgorithm } from './algorithms/p2c';
import { RandomAlgorithm } from './algorithms/random';
import { ResourceBasedAlgorithm } from './algorithms/resource-based';
import { RoundRobinAlgorithm } from './algorithms/round-robin';
import { UrgencyAlgorithm } from './algorithms/urgency';
import { UnknownAlgorithmError } from './errors';
import { resolveParams } from './params';
import type { AlgorithmParams } from './types';

export type AlgorithmFactory = (params: AlgorithmParams, seed: number) => PlacementAlgorithm;

/**
 * Every algorithm, by the name clients select it with. One literal map: a duplicate key is a
 * compile error (TS1117) and a lint error (noDuplicateObjectKeys), and each factory's product
 * carries its key as `name` (checked by tests/unit/scheduling/registry.test.ts).
 */
export const ALGORITHMS = {
  blockchain: () => new BlockchainAlgorithm(),
  urgency: () => new UrgencyAlgorithm(),
  'round-robin': () => new RoundRobinAlgorithm(),
  'least-loaded': () => new LeastLoadedAlgorithm(),
  'least-connections': () => new LeastConnectionsAlgorithm(),
  'resource-based': () => new ResourceBasedAlgorithm(),
  'best-fit': () => new BestFitAlgorithm(),
  p2c: (_params, seed) => new PowerOfTwoChoicesAlgorithm(seed),
  random: (_params, seed) => new RandomAlgorithm(seed),
  fgd: () => new FgdAlgorithm(),
} as const satisfies Record<string, AlgorithmFactory>;

export type AlgorithmName = keyof typeof ALGORITHMS;

export function algorithmNames(): AlgorithmName[] {
  return Object.keys(ALGORITHMS) as AlgorithmName[];
}

export function isAlgorithmName(name: string): name is AlgorithmName {
  return Object.hasOwn(ALGORITHMS, name);
}

/**
 * A fresh instance (its own cursor or PRNG). Throws UnknownAlgorithmError listing the valid names,
 * or a ValidationError naming the bad parameter (e.g. `params.tau`).
 */
export function createAlgorithm(
  name: string,
  params?: Partial<AlgorithmParams>,
  seed: number = DEFAULT_SEED,
): PlacementAlgorithm {
  if (!isAlgorithmName(name)) throw new UnknownAlgorithmError(name, algorithmNames());
  if (!Number.isSafeInteger(seed))
    throw new ValidationError([{ field: 'seed', message: 'must be an integer' }]);
  const factory: AlgorithmFactory = ALGORITHMS[name];
  return factory(resolveParams(params), seed);
}
