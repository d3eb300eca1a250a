export {
  type CommittedAssignment,
  committedAssignments,
  type Skipped,
  type SkipReason,
  taskAssignedEvents,
} from './assignments';
export {
  COMMAND_STATUS_DETAIL_TYPE,
  commandRequest,
  FINAL_COMMAND_STATUSES,
  isFinalCommandStatus,
  MAX_COMMENT_LENGTH,
  MAX_EXECUTION_TIMEOUT_SECONDS,
} from './command';
export {
  type CommandOutcome,
  Dispatcher,
  type DispatcherOptions,
  type DispatchOutcome,
  PublishFailedError,
} from './dispatcher';
export { SpecRecordingEngine, specsOf } from './spec-recording-engine';
