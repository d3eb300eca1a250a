import type { SQSBatchResponse } from 'aws-lambda';
import { completionsHandler } from '../../../../functions/handlers/completions';
import type { Engine } from '../../../../lib/engine/types';
import type { Clock } from '../../../../lib/ports/clock';
import type { CompletionSender } from '../../../../lib/ports/completion-sender';
import {
  COMPLETION_MESSAGE_VERSION,
  type CompletionMessage,
  type CompletionRequest,
} from '../../../../lib/schemas/completion';
import { sqsEvent, sqsRecord } from './events';
import { RecordingLogger, RecordingMetrics } from './fixtures';

/**
 * The completion queue in memory: what the API and command-status functions send, delivered on
 * request to the lease closer's handler as one SQS batch (what the event source mapping does on AWS).
 */
export class MemoryCompletionQueue implements CompletionSender {
  readonly sent: CompletionMessage[] = [];
  private delivered = 0;
  readonly logger = new RecordingLogger();
  readonly metrics = new RecordingMetrics();

  constructor(private readonly clock: Clock) {}

  async send(completion: CompletionRequest, source: CompletionMessage['source']): Promise<void> {
    this.sent.push({
      v: COMPLETION_MESSAGE_VERSION,
      task_id: completion.task_id,
      body: completion.body,
      source,
      sent_at: this.clock.now(),
    });
  }

  /** The messages sent since the last delivery, as one batch for the lease closer. */
  async deliver(engine: Engine): Promise<SQSBatchResponse> {
    const batch = this.sent.slice(this.delivered);
    this.delivered = this.sent.length;
    const handler = completionsHandler({
      engine: () => engine,
      logger: this.logger,
      metrics: this.metrics,
      clock: this.clock,
    });
    return handler(sqsEvent(...batch.map((m, i) => sqsRecord(`completion-${this.delivered + i}`, m))));
  }
}
