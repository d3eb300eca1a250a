import { apiBaseUrl } from '../../../cli/stack';

/**
 * AWS serves a stage at https://{api}.execute-api.{region}.amazonaws.com/{stage}/; the emulator has no
 * such DNS and serves it under its own endpoint at /_aws/execute-api/{api}/{stage}/. The stack's
 * EmulatorApiPath output names that path; `bcs --stack` uses it (cli/stack.ts apiBaseUrl).
 */
export function dataPlaneUrl(endpoint: string, apiUrl: string): string {
  return apiBaseUrl({ ApiUrl: apiUrl }, 'stack', endpoint);
}
