import { recordAwsCalls } from '../../lib/adapters/aws/call-recorder';

/**
 * Imported first by every function entry: with BCS_AWS_CALL_LOG set (the aws tests set it for the
 * emulator's Lambda workers), every AWS call the function makes is appended there as the IAM requests
 * it needs, for tests/aws/e2e/recorded-calls.ts to evaluate against the function's role. Unset on AWS.
 */
const path = process.env.BCS_AWS_CALL_LOG;
if (path) recordAwsCalls(path);
