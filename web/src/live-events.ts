import type * as z from 'zod';
import { ValidationError } from '../../lib/errors';
import {
  blockEventSchema,
  decisionsEventSchema,
  fleetEventSchema,
  metricsEventSchema,
  scalingEventSchema,
  snapshotEventSchema,
} from './wire';

const schemas = {
  snapshot: snapshotEventSchema,
  decisions: decisionsEventSchema,
  block: blockEventSchema,
  fleet: fleetEventSchema,
  metrics: metricsEventSchema,
  scaling: scalingEventSchema,
} as const;

type Schemas = typeof schemas;
export type LiveEventName = keyof Schemas;
export type LiveHandlers = { [K in LiveEventName]: (payload: z.output<Schemas[K]>) => void };

export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

export interface LiveEventsOptions {
  url?: string;
  handlers: LiveHandlers;
  onState: (state: ConnectionState) => void;
  /** A payload that failed validation: it is dropped, the stream goes on. */
  onInvalid: (event: LiveEventName, error: Error) => void;
  /** Delay before reopening a stream the browser gave up on (non-200, wrong type); doubles up to 30 s. */
  retryMs?: number;
}

/**
 * The dashboard's subscription to GET /events. EventSource reconnects by itself after a dropped
 * connection; it gives up (readyState CLOSED) when the server answers with an error status, as it does
 * while restarting behind a proxy, so that case is retried here with backoff. Every (re)connection
 * starts with a `snapshot`, which replaces the panels' state: nothing missed while away lingers.
 */
export function connectLiveEvents(options: LiveEventsOptions): { close(): void } {
  const url = options.url ?? '/events';
  const baseDelay = options.retryMs ?? 1000;
  let delay = baseDelay;
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const open = () => {
    options.onState(source === null ? 'connecting' : 'reconnecting');
    const current = new EventSource(url);
    source = current;
    current.onopen = () => {
      delay = baseDelay;
      options.onState('live');
    };
    current.onerror = () => {
      if (closed) return;
      options.onState('reconnecting');
      if (current.readyState === EventSource.CLOSED) {
        timer = setTimeout(open, delay);
        delay = Math.min(delay * 2, 30_000);
      }
    };
    for (const name of Object.keys(schemas) as LiveEventName[]) {
      current.addEventListener(name, (event) => dispatch(name, (event as MessageEvent<string>).data));
    }
  };

  const dispatch = <K extends LiveEventName>(name: K, data: string) => {
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch (error) {
      options.onInvalid(name, error as Error);
      return;
    }
    const parsed = schemas[name].safeParse(payload);
    if (!parsed.success) {
      options.onInvalid(name, ValidationError.fromZod(parsed.error, `${name} event`));
      return;
    }
    (options.handlers[name] as (p: unknown) => void)(parsed.data);
  };

  open();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      source?.close();
    },
  };
}
