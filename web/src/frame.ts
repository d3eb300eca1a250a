/**
 * Coalesces DOM work into one pass per animation frame. Events can arrive many times a second
 * (decisions per commit, blocks, fleet, metrics); each panel marks itself dirty and renders at most
 * once per frame, so a burst of 100 decision events costs one table update, not 100.
 */
export class FrameScheduler {
  readonly #pending = new Map<string, () => void>();
  #requested = false;

  constructor(
    private readonly requestFrame: (callback: () => void) => void = (cb) => requestAnimationFrame(cb),
  ) {}

  /** Runs `render` in the next frame; a later call with the same key in the same frame replaces it. */
  schedule(key: string, render: () => void): void {
    this.#pending.set(key, render);
    if (this.#requested) return;
    this.#requested = true;
    this.requestFrame(() => this.#flush());
  }

  #flush(): void {
    this.#requested = false;
    const work = [...this.#pending.entries()];
    this.#pending.clear();
    for (const [key, render] of work) {
      const start = performance.now();
      try {
        render();
        // User Timing entries show what each panel costs per frame in DevTools and to observers;
        // cleared at once, because the timeline buffer would otherwise grow for as long as the tab is open.
        performance.measure(`render ${key}`, { start });
        performance.clearMeasures(`render ${key}`);
      } catch (error) {
        // One broken panel must not freeze the others.
        console.error(error);
      }
    }
  }
}
