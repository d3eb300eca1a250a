import { createServer } from 'node:net';

/**
 * A loopback TCP port that was free a moment ago: the OS picks it for a listener that is closed at
 * once. For an emulator or server started right after; a race with another process is possible but
 * harmless here (the start fails loudly and nothing else runs on these ports).
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
