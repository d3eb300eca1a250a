import { type JsonSchema, JsonSchemaType, JsonSchemaVersion } from 'aws-cdk-lib/aws-apigateway';
import type { Dimensions } from '../../lib/model/resources';
import { MAX_TASKS_PER_REQUEST } from '../../lib/schemas/task-input';

/** Fields of a task besides its resource dimensions (lib/schemas/task-input.ts). */
const OTHER_FIELDS = ['id', 'deadline', 'duration', 'priority', 'labels', 'constraints', 'command'];

/**
 * The gateway's request model for POST /tasks: the envelope only. It bounds what reaches the function
 * (JSON, one task object or an array of at most MAX_TASKS_PER_REQUEST, each with a bounded number of
 * fields and bounded strings) and leaves types, ranges and required fields to the enqueue function.
 * That split is deliberate: API Gateway answers a model failure with a fixed "Invalid request body"
 * and cannot name the field (its gateway-response templates cannot escape the validator's message
 * into JSON), while the function answers with the shared schema's field-level issues, exactly as
 * the local server does.
 */
export function taskSubmissionJsonSchema(dimensions: Dimensions): JsonSchema {
  const labels: JsonSchema = {
    type: JsonSchemaType.OBJECT,
    maxProperties: 32,
    additionalProperties: { type: JsonSchemaType.STRING, maxLength: 256 },
  };
  const task: JsonSchema = {
    type: JsonSchemaType.OBJECT,
    maxProperties: dimensions.length + OTHER_FIELDS.length,
    properties: {
      id: { type: JsonSchemaType.STRING, maxLength: 128 },
      command: { type: JsonSchemaType.STRING, maxLength: 4096 },
      labels,
      constraints: labels,
    },
  };
  return {
    schema: JsonSchemaVersion.DRAFT4,
    title: 'TaskSubmission',
    oneOf: [task, { type: JsonSchemaType.ARRAY, minItems: 1, maxItems: MAX_TASKS_PER_REQUEST, items: task }],
  };
}
