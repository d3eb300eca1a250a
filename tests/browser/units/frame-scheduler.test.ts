import { describe, expect, it, vi } from 'vitest';
import { FrameScheduler } from '../../../web/src/frame';

/** A frame source the test advances by hand. */
function manualFrames() {
  const queue: (() => void)[] = [];
  return {
    request: (cb: () => void) => queue.push(cb),
    runFrame: () => {
      for (const cb of queue.splice(0)) cb();
    },
    pending: () => queue.length,
  };
}

describe('FrameScheduler', () => {
  it('renders each key once per frame, with the latest work scheduled for it', () => {
    const frames = manualFrames();
    const scheduler = new FrameScheduler(frames.request);
    const rendered: string[] = [];
    scheduler.schedule('table', () => rendered.push('table v1'));
    scheduler.schedule('chart', () => rendered.push('chart'));
    scheduler.schedule('table', () => rendered.push('table v2'));
    expect(frames.pending()).toBe(1);
    expect(rendered).toEqual([]);

    frames.runFrame();
    expect(rendered).toEqual(['table v2', 'chart']);
  });

  it('asks for a new frame for work scheduled after a flush', () => {
    const frames = manualFrames();
    const scheduler = new FrameScheduler(frames.request);
    const render = vi.fn();
    scheduler.schedule('a', render);
    frames.runFrame();
    scheduler.schedule('a', render);
    expect(frames.pending()).toBe(1);
    frames.runFrame();
    expect(render).toHaveBeenCalledTimes(2);
  });

  it('keeps rendering the other panels when one throws', () => {
    const frames = manualFrames();
    const scheduler = new FrameScheduler(frames.request);
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const after = vi.fn();
    scheduler.schedule('broken', () => {
      throw new Error('boom');
    });
    scheduler.schedule('fine', after);
    frames.runFrame();
    expect(after).toHaveBeenCalledOnce();
    expect(error).toHaveBeenCalledWith(new Error('boom'));
    error.mockRestore();
  });
});
