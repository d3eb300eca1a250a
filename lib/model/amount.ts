/**
 * Resource amounts are decimals with at most AMOUNT_FRACTION_DIGITS fractional digits, from 0 to
 * MAX_AMOUNT. Sums and differences of amounts are computed in integer micro-units (amount x 1e6),
 * never in binary floating point, so that adding and removing the same tasks returns exactly to
 * zero and anyone replaying the ledger reproduces every reservation bit for bit.
 *
 * Why these bounds: an allowed amount has at most 9 integer and 6 fractional digits, so at most
 * 15 significant digits. Every decimal of at most 15 significant digits converts to a unique
 * double and back (DBL_DIG = 15), so (a) the double read from JSON identifies the decimal exactly,
 * (b) the shortest round-trip form that JSON.stringify and RFC 8785 write is the decimal itself, and
 * (c) micro-units stay below 1e15 < 2^53, exact as plain numbers (no BigInt needed). MAX_AMOUNT
 * 1e12 with 6 digits would need 18 significant digits, which a double cannot carry.
 */

/** Fractional digits an amount may carry. */
export const AMOUNT_FRACTION_DIGITS = 6;
/** Micro-units per unit: 10^AMOUNT_FRACTION_DIGITS. */
export const AMOUNT_SCALE = 1_000_000;
/** Upper bound for any single amount (a capacity, a requirement, a reservation), in units. */
export const MAX_AMOUNT = 1e9;
/** The smallest non-zero amount: one micro-unit. */
export const AMOUNT_QUANTUM = 1 / AMOUNT_SCALE;

/**
 * The amount in integer micro-units. Exact for any allowed amount: x * 1e6 lies within 0.2 of the
 * integer it stands for (x has at most 15 significant digits and is below 2^30), so rounding
 * recovers it. Values off the grid are rounded to the nearest micro-unit.
 */
export function toMicro(amount: number): number {
  return Math.round(amount * AMOUNT_SCALE);
}

/** The amount a count of micro-units stands for: one correctly rounded division, so the double nearest the decimal. */
export function fromMicro(micro: number): number {
  return micro / AMOUNT_SCALE;
}

/** True for a finite number in [0, MAX_AMOUNT] with at most AMOUNT_FRACTION_DIGITS fractional digits. */
export function isAmount(value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= 0 &&
    value <= MAX_AMOUNT &&
    fromMicro(toMicro(value)) === value
  );
}

/** What `isAmount` requires, for error messages. */
export const AMOUNT_RULE = `must be a number from 0 to ${MAX_AMOUNT} with at most ${AMOUNT_FRACTION_DIGITS} decimal places`;

/** a + b, exactly (on the micro-unit grid). */
export function addAmounts(a: number, b: number): number {
  return fromMicro(toMicro(a) + toMicro(b));
}

/** a - b, exactly (on the micro-unit grid). May be negative: callers decide what that means. */
export function subtractAmounts(a: number, b: number): number {
  return fromMicro(toMicro(a) - toMicro(b));
}
