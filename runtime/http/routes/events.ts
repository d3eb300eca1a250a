import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { limitBody, RETRY_AFTER_S } from '../../../http/errors';
import { LimitExceededError } from '../../../lib/errors';
import type { EventName } from '../../events/hub';
import type { LocalRuntime } from '../../runtime';

/** Writes a slow client may fall behind by before it is disconnected (it reconnects and gets a snapshot). */
const MAX_PENDING_WRITES = 256;

export function eventRoutes(runtime: LocalRuntime): Hono {
  const app = new Hono();
  // Counted here, synchronously, so that simultaneous connects cannot all pass the check.
  let open = 0;

  app.get('/', (c) => {
    const max = runtime.config.max_event_clients;
    if (open >= max) {
      const error = new LimitExceededError(
        'max_event_clients',
        max,
        '',
        `${open} live event streams are open (max_event_clients ${max}); retry later`,
      );
      c.header('Retry-After', String(RETRY_AFTER_S));
      return c.json(limitBody(error), 503);
    }
    open++;
    let counted = true;
    const release = () => {
      if (counted) open--;
      counted = false;
    };
    return streamSSE(c, async (sse) => {
      const pending: { event: EventName; data: string }[] = [];
      let wake: (() => void) | null = null;
      let overflowed = false;
      let ended = false;
      const unsubscribe = runtime.hub.subscribe(
        (event, data) => {
          if (pending.length >= MAX_PENDING_WRITES) {
            overflowed = true;
          } else {
            pending.push({ event, data });
          }
          wake?.();
        },
        () => {
          ended = true;
          wake?.();
        },
      );
      sse.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      try {
        await sse.writeSSE({ event: 'snapshot', data: JSON.stringify(await runtime.snapshot()) });
        while (!sse.aborted && !sse.closed && !overflowed && !ended) {
          const next = pending.shift();
          if (next) {
            await sse.writeSSE(next);
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
        }
      } finally {
        unsubscribe();
        release();
      }
    });
  });

  return app;
}
