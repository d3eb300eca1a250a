export {
  EventBridgePublisher,
  type EventBridgePublisherOptions,
  MAX_ENTRIES_PER_PUT,
  TASK_ASSIGNED_DETAIL_TYPE,
  TASK_ASSIGNED_SOURCE,
} from './eventbridge-publisher';
