import type { BlockEvent, DecisionEventItem, ServerEvents } from '../../lib/schemas/http';

export type EventName = keyof ServerEvents;
export type Subscriber = (event: EventName, data: string) => void;
/** Told when the hub shuts down, so a stream can end cleanly. */
export type OnClose = () => void;

export interface EventHubOptions {
  /** Most decisions sent per flush; a browser cannot draw more, and older ones are in the ledger. */
  maxDecisionsPerFlush?: number;
  /** Most block events sent per flush, newest kept. */
  maxBlocksPerFlush?: number;
}

/**
 * Fans events out to the Server-Sent Events clients. Decisions and blocks arrive at the commit rate
 * (thousands a second under load), so they are buffered and sent by `flush`, which the runtime calls
 * on a timer; each payload is serialised once for all clients.
 */
export class EventHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly closeListeners = new Set<OnClose>();
  private decisions: DecisionEventItem[] = [];
  private blocks: BlockEvent[] = [];
  private readonly maxDecisions: number;
  private readonly maxBlocks: number;

  constructor(options: EventHubOptions = {}) {
    this.maxDecisions = options.maxDecisionsPerFlush ?? 500;
    this.maxBlocks = options.maxBlocksPerFlush ?? 50;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Returns the function that unsubscribes. */
  subscribe(subscriber: Subscriber, onClose?: OnClose): () => void {
    this.subscribers.add(subscriber);
    if (onClose) this.closeListeners.add(onClose);
    return () => {
      this.subscribers.delete(subscriber);
      if (onClose) this.closeListeners.delete(onClose);
    };
  }

  /** Ends every stream (server shutdown). */
  close(): void {
    for (const listener of [...this.closeListeners]) listener();
    this.subscribers.clear();
    this.closeListeners.clear();
  }

  publish<K extends EventName>(event: K, data: ServerEvents[K]): void {
    if (this.subscribers.size === 0) return;
    const text = JSON.stringify(data);
    for (const subscriber of this.subscribers) subscriber(event, text);
  }

  addDecisions(items: DecisionEventItem[]): void {
    if (this.subscribers.size === 0) return;
    this.decisions.push(...items);
    if (this.decisions.length > this.maxDecisions)
      this.decisions.splice(0, this.decisions.length - this.maxDecisions);
  }

  addBlock(block: BlockEvent): void {
    if (this.subscribers.size === 0) return;
    this.blocks.push(block);
    if (this.blocks.length > this.maxBlocks) this.blocks.splice(0, this.blocks.length - this.maxBlocks);
  }

  flush(): void {
    const decisions = this.decisions;
    const blocks = this.blocks;
    this.decisions = [];
    this.blocks = [];
    if (decisions.length > 0) this.publish('decisions', { items: decisions });
    for (const block of blocks) this.publish('block', block);
  }
}
