import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

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

/**
 * MiniStack writes its CommonJS Lambda worker script (_worker.js) under TMPDIR, which the harness
 * puts in .emulator/ inside this repository; Node then reads the repository's package.json
 * ("type": "module") and refuses `require` in that script, so every Node.js function fails with
 * "Worker process exited immediately". A package.json marking .emulator/ as CommonJS scopes the
 * repository's setting away from the emulator's scratch files. Only done when the harness started
 * the emulator in this checkout.
 */
export async function scopeEmulatorScratchToCommonJs(): Promise<void> {
  const dir = fileURLToPath(new URL('../../../.emulator/', import.meta.url));
  if (existsSync(dir) && !existsSync(`${dir}package.json`)) {
    await writeFile(`${dir}package.json`, '{ "type": "commonjs" }\n');
  }
}
