/**
 * Where the emulator differs from AWS, for the end-to-end test only. The stack itself is deployed
 * unchanged except for the two documented context flags (stage=test, cloudWatchRole=false).
 */

/**
 * AWS serves a stage at https://{api}.execute-api.{region}.amazonaws.com/{stage}/; the emulator has no
 * such DNS and serves it under its own endpoint at /_aws/execute-api/{api}/{stage}/.
 */
export function dataPlaneUrl(endpoint: string, apiUrl: string): string {
  const match = /^https:\/\/([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com\/([^/]+)\/$/.exec(apiUrl);
  if (!match) throw new Error(`unexpected API URL ${apiUrl}`);
  return `${endpoint}/_aws/execute-api/${match[1]}/${match[2]}/`;
}
