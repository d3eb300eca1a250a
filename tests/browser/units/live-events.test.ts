import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connectLiveEvents, type LiveHandlers } from '../../../web/src/live-events';

/** Just enough of EventSource to drive the client: the test plays the server. */
class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static instances: FakeEventSource[] = [];
  readyState = FakeEventSource.CONNECTING;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  readonly listeners = new Map<string, (event: { data: string }) => void>();
  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }
  addEventListener(name: string, listener: (event: { data: string }) => void) {
    this.listeners.set(name, listener);
  }
  close() {
    this.readyState = FakeEventSource.CLOSED;
  }
  emit(name: string, data: string) {
    this.listeners.get(name)?.({ data });
  }
}

const block = {
  height: 3,
  hash: 'ab'.repeat(32),
  transaction_count: 5,
  timestamp: '2026-11-21T05:28:25.123Z',
};

function handlers() {
  return {
    snapshot: vi.fn<LiveHandlers['snapshot']>(),
    decisions: vi.fn<LiveHandlers['decisions']>(),
    block: vi.fn<LiveHandlers['block']>(),
    fleet: vi.fn<LiveHandlers['fleet']>(),
    metrics: vi.fn<LiveHandlers['metrics']>(),
    scaling: vi.fn<LiveHandlers['scaling']>(),
  };
}

describe('connectLiveEvents', () => {
  beforeEach(() => {
    FakeEventSource.instances = [];
    vi.stubGlobal('EventSource', FakeEventSource);
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('hands a valid event to its handler, parsed', () => {
    const h = handlers();
    connectLiveEvents({ handlers: h, onState: () => {}, onInvalid: () => {} });
    FakeEventSource.instances[0]!.emit('block', JSON.stringify(block));
    expect(h.block).toHaveBeenCalledWith(block);
  });

  it('drops an event that breaks the contract and names the field', () => {
    const h = handlers();
    const onInvalid = vi.fn();
    connectLiveEvents({ handlers: h, onState: () => {}, onInvalid });
    FakeEventSource.instances[0]!.emit('block', JSON.stringify({ ...block, height: -1 }));
    FakeEventSource.instances[0]!.emit('metrics', '{not json');
    expect(h.block).not.toHaveBeenCalled();
    expect(h.metrics).not.toHaveBeenCalled();
    expect(onInvalid).toHaveBeenCalledTimes(2);
    const [event, error] = onInvalid.mock.calls[0]!;
    expect(event).toBe('block');
    expect((error as Error).message).toMatch(/^block event: height: /);
    expect(onInvalid.mock.calls[1]![0]).toBe('metrics');
  });

  it('reports live on open and reconnecting on a dropped connection the browser retries itself', () => {
    const states: string[] = [];
    connectLiveEvents({ handlers: handlers(), onState: (s) => states.push(s), onInvalid: () => {} });
    const source = FakeEventSource.instances[0]!;
    source.readyState = FakeEventSource.OPEN;
    source.onopen?.();
    source.readyState = FakeEventSource.CONNECTING;
    source.onerror?.();
    vi.advanceTimersByTime(60_000);
    expect(states).toEqual(['connecting', 'live', 'reconnecting']);
    // EventSource retries by itself in this state: no second stream is opened.
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('reopens a stream the browser gave up on, backing off 1 s, 2 s, 4 s', () => {
    connectLiveEvents({ handlers: handlers(), onState: () => {}, onInvalid: () => {}, retryMs: 1000 });
    const giveUp = () => {
      const source = FakeEventSource.instances.at(-1)!;
      source.readyState = FakeEventSource.CLOSED;
      source.onerror?.();
    };
    giveUp();
    vi.advanceTimersByTime(999);
    expect(FakeEventSource.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeEventSource.instances).toHaveLength(2);
    giveUp();
    vi.advanceTimersByTime(1999);
    expect(FakeEventSource.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeEventSource.instances).toHaveLength(3);
    giveUp();
    vi.advanceTimersByTime(4000);
    expect(FakeEventSource.instances).toHaveLength(4);
    expect(FakeEventSource.instances.every((s) => s.url === '/events')).toBe(true);
  });

  it('resets the backoff once a stream opens, and stops for good on close()', () => {
    const connection = connectLiveEvents({ handlers: handlers(), onState: () => {}, onInvalid: () => {} });
    const first = FakeEventSource.instances[0]!;
    first.readyState = FakeEventSource.CLOSED;
    first.onerror?.();
    vi.advanceTimersByTime(1000);
    const second = FakeEventSource.instances[1]!;
    second.onopen?.();
    second.readyState = FakeEventSource.CLOSED;
    second.onerror?.();
    vi.advanceTimersByTime(1000);
    expect(FakeEventSource.instances).toHaveLength(3);

    connection.close();
    const third = FakeEventSource.instances[2]!;
    expect(third.readyState).toBe(FakeEventSource.CLOSED);
    third.onerror?.();
    vi.advanceTimersByTime(60_000);
    expect(FakeEventSource.instances).toHaveLength(3);
  });
});
