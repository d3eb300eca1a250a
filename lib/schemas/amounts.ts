import * as z from 'zod';
import { AMOUNT_FRACTION_DIGITS, fromMicro, MAX_AMOUNT, toMicro } from '../model/amount';

/**
 * The numeric rules for resource amounts, in one place for every entry point: the HTTP API and the
 * CLI (task requirements, VM capacities), the config file, and the engine's own fleet check
 * (lib/scheduling/fleet-state.ts). Whatever an entry point accepts, the engine accepts later.
 */

/** Upper bound for any resource amount (1e9); the bound and why are in lib/model/amount.ts. */
export { MAX_AMOUNT };

/**
 * Smallest non-zero capacity accepted. Ratios divide by capacity: below this, 1 / capacity can
 * overflow (1 / 5e-324 is Infinity) and 0 * Infinity poisons scores with NaN. With amounts at most
 * MAX_AMOUNT (1e9), every ratio stays below 1e15.
 */
export const MIN_CAPACITY = 1e-6;

/** Why `value` is not a resource amount (requirement, reservation, usage), or null when it is one. */
export function amountProblem(value: unknown): string | null {
  return typeof value === 'number' && value >= 0 && value <= MAX_AMOUNT
    ? null
    : `must be a number from 0 to ${MAX_AMOUNT}`;
}

/** Why `value` is not a VM capacity, or null when it is one: an amount that is 0 or at least MIN_CAPACITY. */
export function capacityProblem(value: unknown): string | null {
  const problem = amountProblem(value);
  if (problem !== null) return problem;
  return (value as number) > 0 && (value as number) < MIN_CAPACITY
    ? `must be 0 or at least ${MIN_CAPACITY}`
    : null;
}

/**
 * A resource amount as an entry point takes it (a task's requirement, a VM's capacity): a decimal in
 * [0, MAX_AMOUNT] with at most AMOUNT_FRACTION_DIGITS decimal places (lib/model/amount.ts), so that
 * sums in micro-units are exact. Measured usage is not held to the grid (amountProblem is not).
 * Hand-written instead of zod's multipleOf, which accepts 1e-7 (it counts decimals in "1e-7" as 0).
 */
export const amountSchema = z
  .number()
  .finite()
  .min(0)
  .max(MAX_AMOUNT)
  .refine((v) => fromMicro(toMicro(v)) === v, `must have at most ${AMOUNT_FRACTION_DIGITS} decimal places`);

/** A VM's capacity in one dimension: the engine's rule (capacityProblem), stated once. */
export const capacityAmountSchema = amountSchema.superRefine((value, ctx) => {
  // zod runs this even when a check above failed; that failure is already reported once.
  if (amountProblem(value) !== null) return;
  const problem = capacityProblem(value);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});
