import type { JsonSchema } from 'aws-cdk-lib/aws-apigateway';
import { JsonSchemaVersion } from 'aws-cdk-lib/aws-apigateway';
import { z } from 'zod';
import type { Dimensions } from '../../lib/model/resources';
import { taskSubmissionSchema } from '../../lib/schemas/task-input';

/**
 * The gateway's request model for POST /tasks, generated from the same zod schema the enqueue
 * function applies, so the two cannot drift. The gateway rejects malformed or oversized payloads
 * (at most MAX_TASKS_PER_REQUEST tasks, bounded strings) before a function runs; refinements that
 * JSON Schema cannot say (at least one resource per task) stay with the function.
 */
export function taskSubmissionJsonSchema(dimensions: Dimensions): JsonSchema {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(taskSubmissionSchema(dimensions), {
    target: 'draft-4',
    io: 'input',
  }) as Record<string, unknown>;
  return { schema: JsonSchemaVersion.DRAFT4, title: 'TaskSubmission', ...schema } as JsonSchema;
}
