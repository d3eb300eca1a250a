import { UNITS } from '../model/resources';

/** Up to three decimals, no trailing zeros, no exponent for the amounts a VM can hold. */
export function formatNumber(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

/** "cpu 5000 millicores"; a dimension without a known unit is printed bare ("fpga 2"). */
export function formatAmount(dimension: string, value: number): string {
  const unit = (UNITS as Record<string, string>)[dimension];
  return unit ? `${dimension} ${formatNumber(value)} ${unit}` : `${dimension} ${formatNumber(value)}`;
}
