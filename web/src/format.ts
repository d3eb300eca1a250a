/** Display helpers: one place decides how numbers, hashes and times look across panels. */

export function percent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return `${(value * 100).toFixed(digits)}%`;
}

export function decimal(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toFixed(digits);
}

export function integer(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return Math.round(value).toLocaleString('en-US');
}

/** First and last characters of a hex hash; the full value goes in a title attribute. */
export function shortHash(hash: string | null | undefined, head = 10, tail = 6): string {
  if (!hash) return '—';
  if (hash.length <= head + tail + 1) return hash;
  return `${hash.slice(0, head)}…${hash.slice(-tail)}`;
}

/** Accepts epoch ms, epoch seconds or an RFC 3339 string (the events use all three). */
export function toEpochMs(at: number | string): number {
  if (typeof at === 'string') {
    const parsed = Date.parse(at);
    return Number.isNaN(parsed) ? Date.now() : parsed;
  }
  // Epoch seconds stay below 1e11 until the year 5138; epoch milliseconds passed it in 1973.
  return at < 1e11 ? at * 1000 : at;
}

export function clockTime(at: number | string): string {
  const d = new Date(toEpochMs(at));
  return d.toISOString().slice(11, 23);
}
