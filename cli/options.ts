import { InvalidArgumentError } from 'commander';

/** Commander parser for integer flags: rejects "12abc" and "1.5" instead of truncating them. */
export function intOption(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError('must be an integer');
  return Number(value);
}

export function numberOption(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
}
