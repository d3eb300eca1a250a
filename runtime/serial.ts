/**
 * Runs async work one piece at a time. The scheduler, completion and lease loops all append to the
 * same chain; in one process, taking turns is cheaper than losing compare-and-set races and retrying.
 */
export type Serial = <T>(work: () => Promise<T>) => Promise<T>;

export function createSerial(): Serial {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work, work);
    tail = run.catch(() => undefined);
    return run;
  };
}
