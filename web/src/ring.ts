/**
 * Fixed-capacity time series columns for uPlot, which wants aligned arrays (x first). Appending past
 * the capacity drops the oldest sample, so memory stays flat however long the dashboard stays open.
 */
export class SeriesWindow {
  readonly #columns: number[][];
  readonly #capacity: number;

  constructor(seriesCount: number, capacity: number) {
    if (capacity < 1) throw new RangeError(`capacity must be at least 1, got ${capacity}`);
    this.#capacity = capacity;
    this.#columns = Array.from({ length: seriesCount + 1 }, () => []);
  }

  /** `x` is seconds (uPlot's time unit); `values` holds one y per series, in order. */
  push(x: number, values: readonly (number | null)[]): void {
    if (values.length !== this.#columns.length - 1) {
      throw new RangeError(`expected ${this.#columns.length - 1} values, got ${values.length}`);
    }
    const xs = this.#columns[0]!;
    // A sample for the same second replaces the previous one instead of stacking on the same x.
    const replace = xs.length > 0 && xs[xs.length - 1] === x;
    this.#columns.forEach((column, i) => {
      const value = i === 0 ? x : (values[i - 1] as number);
      if (replace) column[column.length - 1] = value;
      else column.push(value);
      if (column.length > this.#capacity) column.shift();
    });
  }

  get length(): number {
    return this.#columns[0]!.length;
  }

  clear(): void {
    for (const column of this.#columns) column.length = 0;
  }

  /** The columns as uPlot.AlignedData; uPlot copies nothing, so treat them as read-only. */
  data(): [number[], ...(number | null)[][]] {
    return this.#columns as [number[], ...(number | null)[][]];
  }
}
