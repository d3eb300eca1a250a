import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../../runtime/loopback';

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.5.6.7', '::1', '[::1]', '::ffff:127.0.0.1', 'localhost'])(
    '%s is loopback',
    async (host) => {
      expect(await isLoopbackHost(host)).toBe(true);
    },
  );

  it.each([
    '0.0.0.0',
    '::',
    '[::]',
    '10.0.0.1',
    '128.0.0.1',
    '::ffff:10.0.0.1',
    '::2',
    'no-such-host.invalid',
  ])('%s is not', async (host) => {
    expect(await isLoopbackHost(host)).toBe(false);
  });
});
