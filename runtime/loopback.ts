import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
// An IPv4-mapped loopback address (::ffff:127.0.0.1) is loopback too.
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Whether binding `host` exposes the server only to this machine. A name counts as loopback only if
 * every address it resolves to is: `localhost` mapped to a LAN address in /etc/hosts is not.
 * Unresolvable names are not loopback (the bind would fail anyway, and refusing is the safe side).
 */
export async function isLoopbackHost(host: string): Promise<boolean> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) !== 0) return isLoopbackAddress(bare);
  try {
    const addresses = await lookup(bare, { all: true });
    return addresses.length > 0 && addresses.every((a) => isLoopbackAddress(a.address));
  } catch {
    return false;
  }
}
