import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../../lib/ledger/canonical';
import {
  AMOUNT_SCALE,
  addAmounts,
  fromMicro,
  isAmount,
  MAX_AMOUNT,
  subtractAmounts,
  toMicro,
} from '../../../lib/model/amount';
import { FleetState } from '../../../lib/scheduling/fleet-state';
import { runtimeConfigSchema } from '../../../lib/schemas/config';
import { addVmsSchema } from '../../../lib/schemas/http';
import { queuedTaskSchema } from '../../../lib/schemas/queue-message';
import { taskInputSchema } from '../../../lib/schemas/task-input';

/** The decimal a count of micro-units stands for, written by hand from the integer's digits. */
function decimal(micro: bigint): string {
  const digits = micro.toString().padStart(7, '0');
  const whole = digits.slice(0, -6).replace(/^0+(?=\d)/, '');
  const fraction = digits.slice(-6).replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}

const anyMicro = fc.bigInt({ min: 0n, max: BigInt(MAX_AMOUNT * AMOUNT_SCALE) });

describe('amounts (lib/model/amount.ts)', () => {
  it('writes every allowed amount, in JSON and RFC 8785, as exactly its decimal', () => {
    fc.assert(
      fc.property(anyMicro, (micro) => {
        const amount = fromMicro(Number(micro));
        expect(JSON.stringify(amount)).toBe(decimal(micro));
        expect(canonicalString(amount)).toBe(decimal(micro));
        expect(Number(decimal(micro))).toBe(amount);
        expect(toMicro(amount)).toBe(Number(micro));
        expect(isAmount(amount)).toBe(true);
      }),
      { numRuns: 5000 },
    );
    // The extremes, including the largest with every digit used (15 significant digits).
    for (const micro of [0n, 1n, 999_999_999_999_999n, 1_000_000_000_000_000n, 123_456_789_012_345n]) {
      expect(JSON.stringify(fromMicro(Number(micro)))).toBe(decimal(micro));
    }
  });

  it('adds and subtracts exactly: any sequence of adds and the same removes returns to zero', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1_000 * AMOUNT_SCALE }), { maxLength: 40 }),
        (micros) => {
          const amounts = micros.map(fromMicro);
          let total = 0;
          for (const a of amounts) total = addAmounts(total, a);
          expect(total).toBe(fromMicro(micros.reduce((s, m) => s + m, 0)));
          for (const a of [...amounts].reverse()) total = subtractAmounts(total, a);
          expect(total).toBe(0);
        },
      ),
    );
  });

  it.each([
    [-0.000001, false],
    [0.0000001, false],
    [1e-7, false],
    [33.3333333, false],
    [1e9 + 0.000001, false],
    [Number.NaN, false],
    [Number.POSITIVE_INFINITY, false],
    [0, true],
    [33.3, true],
    [0.000001, true],
    [999_999_999.999999, true],
    [1e9, true],
  ])('isAmount(%s) is %s', (value, expected) => {
    expect(isAmount(value)).toBe(expected);
  });

  it('refuses a task amount with more than 6 decimal places, naming the field', () => {
    const result = taskInputSchema().safeParse({ cpu: 0.1234567, deadline: 2e9, duration: 60 });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['cpu', 'must have at most 6 decimal places'],
    ]);
    // zod's own multipleOf(0.000001) lets 1e-7 through; the amount schema does not.
    expect(taskInputSchema().safeParse({ cpu: 1e-7, deadline: 2e9, duration: 60 }).success).toBe(false);
    expect(taskInputSchema().safeParse({ cpu: 2e9, deadline: 2e9, duration: 60 }).success).toBe(false);
    expect(taskInputSchema().safeParse({ cpu: 0.000001, deadline: 2e9, duration: 60 }).success).toBe(true);
  });
});

describe('every entry point refuses an amount off the grid, naming the field', () => {
  const issues = (result: {
    success: boolean;
    error?: { issues: { path: PropertyKey[]; message: string }[] };
  }) => result.error?.issues.map((i) => [i.path.join('.'), i.message]);
  const message = 'must have at most 6 decimal places';

  it.each([
    [
      'an SQS message (queued task)',
      () =>
        queuedTaskSchema(['cpu']).safeParse({
          id: 't',
          requirements: { cpu: 0.1234567 },
          duration: 1,
          deadline: 2e9,
          priority: 0,
          submittedAt: 0,
          labels: {},
          constraints: {},
        }),
      'requirements.cpu',
    ],
    [
      'POST /fleet/vms capacity',
      () => addVmsSchema(['cpu']).safeParse({ capacity: { cpu: 1.0000001 } }),
      'capacity.cpu',
    ],
    [
      'the config file fleet capacity',
      () => runtimeConfigSchema.safeParse({ fleet: { capacity: { cpu: 1e-7 } } }),
      'fleet.capacity.cpu',
    ],
  ])('%s', (_label, parse, field) => {
    expect(issues(parse())).toContainEqual([field, message]);
  });
});

describe('FleetState fit test on the micro-unit grid', () => {
  const vm = (capacity: number, reserved: number) => ({
    id: 'v',
    capacity: { cpu: capacity },
    reserved: { cpu: reserved },
    usage: {},
    history: [],
    activeTasks: 0,
    labels: {},
    state: 'active' as const,
  });

  it('agrees with the exact integer comparison for any amounts up to MAX_AMOUNT, and reserves exactly', () => {
    const micro = fc.integer({ min: 0, max: MAX_AMOUNT * AMOUNT_SCALE });
    // Near-equal sums are where floating point goes wrong: draw them often.
    const scenario = fc.oneof(
      fc.tuple(micro, micro, micro),
      fc.tuple(micro, micro, fc.integer({ min: -2, max: 2 })).map(([c, r, e]) => {
        const d = Math.max(0, c - r + e);
        return [c, r, d] as [number, number, number];
      }),
    );
    fc.assert(
      fc.property(scenario, ([c, r, d]) => {
        const fleet = FleetState.from([vm(fromMicro(c), fromMicro(r))], ['cpu']);
        const demand = Float64Array.of(fromMicro(d));
        expect(fleet.fitsDemand(0, demand)).toBe(r + d <= c);
        if (r + d <= c) {
          fleet.reserveDemand(0, demand);
          expect(fleet.reserved[0]).toBe(fromMicro(r + d));
          fleet.releaseDemand(0, demand);
          expect(fleet.reserved[0]).toBe(fromMicro(r));
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('fits a task that exactly fills the largest VM, and not one micro-unit more', () => {
    const fleet = FleetState.from([vm(999_999_999.999999, 999_999_999.999998)], ['cpu']);
    expect(fleet.fitsDemand(0, Float64Array.of(0.000001))).toBe(true);
    expect(fleet.fitsDemand(0, Float64Array.of(0.000002))).toBe(false);
  });
});
