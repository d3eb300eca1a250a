import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { MiddlewareHandler } from 'hono';

/** Methods that change state. The same set the token guards (auth.ts). */
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Names that always mean this machine. (RFC 6761 reserves localhost; browsers resolve *.localhost to loopback.) */
const LOOPBACK_NAMES = new Set(['localhost']);

export interface HostCheckOptions {
  /** The address the server is bound to (config `host`). */
  boundHost: string;
  /** Further names or addresses clients may use (config `allowed_hosts`, `--allowed-host`). */
  allowedHosts: readonly string[];
  /** The machine's interface addresses; injectable for tests. Default: os.networkInterfaces(). */
  interfaceAddresses?: () => string[];
}

/**
 * Refuses mutating requests that a browser could have been tricked into sending: DNS rebinding
 * (a page on evil.example whose name then resolves to 127.0.0.1 sends requests with
 * `Host: evil.example`) gets 421 naming the host; a cross-site page sending with its own
 * `Origin` gets 403 naming the origin. Accepted hosts: the bound address, loopback names and
 * addresses, the machine's own addresses when bound to every interface (0.0.0.0 or ::), and the
 * allow-list. Reads stay open, as the ledger is meant to be audited by anyone.
 *
 * Hand-written rather than hono's cors/csrf helpers: those check Origin only, and rebinding sends a
 * same-origin request (Origin and Host both evil.example), which only a Host check catches.
 */
export function refuseForeignHostsForWrites(options: HostCheckOptions): MiddlewareHandler {
  const allowed = allowedHostSet(options);
  const accepts = (host: string) => allowed.has(host) || isLoopbackLiteral(host) || isLocalhostName(host);
  return async (c, next) => {
    if (!MUTATING.has(c.req.method)) return next();
    // Without a Host header (HTTP/1.0, or an in-process request) the URL's host stands in: the
    // Node adapter builds it from the bound name then. Browsers always send Host.
    const hostHeader = c.req.header('host') ?? new URL(c.req.url).host;
    const host = hostName(hostHeader);
    if (host === undefined || !accepts(host)) {
      return c.json(
        {
          error: 'MisdirectedRequest',
          message: `Host ${JSON.stringify(hostHeader)} is not an address of this server; writes are accepted for ${describe(allowed)}, loopback names, or a name added with --allowed-host (config "allowed_hosts")`,
        },
        421,
      );
    }
    const origin = c.req.header('origin');
    if (origin !== undefined) {
      const originHost = originHostName(origin);
      if (originHost === undefined || !accepts(originHost)) {
        return c.json(
          {
            error: 'Forbidden',
            message: `Origin ${JSON.stringify(origin)} is another site; writes are accepted only from pages of this server (or a host added with --allowed-host)`,
          },
          403,
        );
      }
    }
    return next();
  };
}

function allowedHostSet(options: HostCheckOptions): Set<string> {
  const allowed = new Set<string>();
  const add = (name: string) => {
    const normalised = hostName(name);
    if (normalised !== undefined) allowed.add(normalised);
  };
  for (const name of options.allowedHosts) add(name);
  const bound = hostName(options.boundHost);
  if (bound === '0.0.0.0' || bound === '::') {
    const addresses = options.interfaceAddresses ?? defaultInterfaceAddresses;
    for (const address of addresses()) add(address);
  } else {
    add(options.boundHost);
  }
  return allowed;
}

function defaultInterfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) =>
    (list ?? []).map((i) => i.address.split('%')[0]!),
  );
}

/**
 * The host part of a Host header value (or a bare name), lower-cased, without the port and without
 * a trailing dot; IPv6 literals without brackets. Undefined when it is not a plausible host.
 */
export function hostName(value: string): string | undefined {
  let host = value.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return undefined;
    const rest = host.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    host = host.slice(1, end);
    return isIP(host) === 6 ? host : undefined;
  }
  if (isIP(host) === 6) return host;
  host = host.replace(/:\d{1,5}$/, '');
  if (host.endsWith('.')) host = host.slice(0, -1);
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host) ? host : undefined;
}

function originHostName(origin: string): string | undefined {
  // "null" (sandboxed frames, file: pages) is never this server.
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return hostName(url.host);
  } catch {
    return undefined;
  }
}

function isLoopbackLiteral(host: string): boolean {
  if (host === '::1') return true;
  if (host.startsWith('::ffff:')) return isLoopbackLiteral(host.slice('::ffff:'.length));
  return isIP(host) === 4 && host.startsWith('127.');
}

function isLocalhostName(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host.endsWith('.localhost');
}

function describe(allowed: Set<string>): string {
  const list = [...allowed].slice(0, 8).join(', ');
  return list === '' ? 'the bound address' : list;
}
