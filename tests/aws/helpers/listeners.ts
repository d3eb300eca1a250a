import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A TCP socket in the LISTEN state, as /proc/net/tcp and tcp6 describe it. */
export interface Listener {
  readonly address: string;
  readonly port: number;
  readonly inode: number;
}

const TCP_LISTEN = '0A';

/**
 * The address in /proc/net/tcp{,6}'s hex form, as text: IPv4 is one little-endian 32-bit word
 * (`0100007F` is 127.0.0.1), IPv6 four such words (`…01000000` is ::1).
 */
export function procAddress(hex: string): string {
  if (hex.length === 8) return Buffer.from(hex, 'hex').reverse().join('.');
  const words = hex.match(/.{8}/g)!.map((w) => Buffer.from(w, 'hex').reverse());
  const bytes = Buffer.concat(words);
  if (bytes.subarray(0, 12).equals(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])))
    return `::ffff:${[...bytes.subarray(12)].join('.')}`;
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Every listening TCP socket of the machine (this network namespace). */
export function tcpListeners(): Listener[] {
  const listeners: Listener[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 in this kernel
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] !== TCP_LISTEN) continue;
      const [address, port] = fields[1]!.split(':');
      listeners.push({
        address: procAddress(address!),
        port: Number.parseInt(port!, 16),
        inode: Number(fields[9]),
      });
    }
  }
  return listeners;
}

/** The pids of a process group (MiniStack runs under setsid: its pid is the group id). */
export function processGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) === pgid) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** The socket inodes a process holds open. */
export function socketInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(Number(match[1]));
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** The listening TCP sockets held by any process of the group. */
export function groupListeners(pgid: number): Listener[] {
  const inodes = new Set(processGroup(pgid).flatMap((pid) => [...socketInodes(pid)]));
  return tcpListeners().filter((l) => inodes.has(l.inode));
}

export const isLoopback = (address: string): boolean =>
  /^127\./.test(address) || address === '::1' || /^::ffff:127\./.test(address);
