import * as z from 'zod';
import { ValidationError } from '../errors';
import { type AlgorithmParams, DEFAULT_PARAMS } from './types';

/**
 * Bounds keep every score finite: with tau >= 1e-9 and the one-second floor on time remaining,
 * UF <= 1e9; with DW floored at DW_MIN (see algorithms/blockchain.ts) a score stays below 1e12.
 */
export const algorithmParamsSchema = z.strictObject({
  alpha: z.number().finite().min(0).max(1e6).optional(),
  beta: z.number().finite().min(0).max(1e6).optional(),
  tau: z.number().finite().min(1e-9, 'must be at least 1e-9').max(1e6).optional(),
  historyWindow: z.number().int().min(1).max(10_000).optional(),
  weights: z.record(z.string().min(1), z.number().finite().min(0).max(1e6)).optional(),
});

/** Defaults filled in and every field checked; throws a ValidationError naming e.g. `params.tau`. */
export function resolveParams(params: Partial<AlgorithmParams> = {}): AlgorithmParams {
  const result = algorithmParamsSchema.safeParse(params);
  if (!result.success)
    throw ValidationError.fromZod(result.error, 'invalid algorithm parameters', ['params']);
  const resolved: AlgorithmParams = { ...DEFAULT_PARAMS };
  const { alpha, beta, tau, historyWindow, weights } = result.data;
  if (alpha !== undefined) resolved.alpha = alpha;
  if (beta !== undefined) resolved.beta = beta;
  if (tau !== undefined) resolved.tau = tau;
  if (historyWindow !== undefined) resolved.historyWindow = historyWindow;
  if (weights !== undefined) resolved.weights = weights;
  return resolved;
}
