import { readFile, stat, writeFile } from 'node:fs/promises';
import { ValidationError } from '../../errors';

/**
 * A private key in a PEM file that only its owner may read: read it, or create it with `generate`
 * (mode 0600, exclusively, so two processes starting at once cannot overwrite each other's key). A
 * file that group or others can read is refused, as ssh refuses one. Errors name the path, never the key.
 */
export async function openKeyPem(
  path: string,
  generate: () => string,
): Promise<{ pem: string; created: boolean }> {
  try {
    return { pem: await readKeyFile(path), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const pem = generate();
  try {
    await writeFile(path, pem, { mode: 0o600, flag: 'wx' });
    return { pem, created: true };
  } catch (writeError) {
    // Another process created it between our read and our write: use theirs.
    if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError;
    return { pem: await readKeyFile(path), created: false };
  }
}

async function readKeyFile(path: string): Promise<string> {
  const info = await stat(path);
  if (!info.isFile()) throw keyFileError(path, 'is not a regular file');
  // Group or other permission bits: the private key would be readable by other users.
  if ((info.mode & 0o077) !== 0) {
    throw keyFileError(
      path,
      `is accessible by group or others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600`,
    );
  }
  return readFile(path, 'utf8');
}

export function keyFileError(path: string, message: string, context = 'digest signing key'): ValidationError {
  return new ValidationError([{ field: 'keyFile', message: `${path} ${message}` }], context);
}
