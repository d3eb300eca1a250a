import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main, program } from '../../cli/main';

/**
 * Every flag an error message of a remote command names is one that command takes (issue 18: `bcs
 * enqueue` once answered a 403 with "needs --aws-sigv4 or --api-key" and then refused both). Each
 * command runs in-process against a gateway-like server that refuses everything with 403, and with
 * its sources missing, doubled or mismatched; the flags in what it prints must be its own options.
 */

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((_, res) => {
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end('{"message":"Missing Authentication Token"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod/`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Runs `bcs args` in-process; everything it wrote to stderr and the exit code. */
async function bcs(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const collect = (...parts: unknown[]) => {
    stderr += `${parts.map(String).join(' ')}\n`;
  };
  const error = vi.spyOn(console, 'error').mockImplementation(collect);
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const before = process.exitCode;
  try {
    const code = await main(['node', 'bcs', ...args]);
    return { code, stderr };
  } finally {
    process.exitCode = before;
    for (const spy of [error, log, write, out]) spy.mockRestore();
  }
}

function find(path: string[]): Command {
  let command = program();
  for (const name of path) command = command.commands.find((c) => c.name() === name)!;
  return command;
}

const flagsIn = (text: string) => [...new Set(text.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? [])];

// The remote commands and what each needs besides a source to get as far as a request.
const REMOTE: { path: string[]; extra: string[] }[] = [
  { path: ['ledger', 'verify'], extra: [] },
  { path: ['ledger', 'export'], extra: ['--out', '/nonexistent/never-written.jsonl'] },
  { path: ['ledger', 'proof'], extra: ['tx-1'] },
  { path: ['ledger', 'digest'], extra: [] },
  { path: ['ledger', 'public-key'], extra: [] },
  { path: ['ledger', 'consistency'], extra: ['--from', '1'] },
  { path: ['enqueue'], extra: ['--count', '1'] },
];

describe('error hints name only flags the command takes', () => {
  it('covers every command that takes --url', () => {
    const withUrl: string[] = [];
    const walk = (c: Command, names: string[]) => {
      for (const sub of c.commands) {
        const path = [...names, sub.name()];
        if (sub.options.some((o) => o.long === '--url')) withUrl.push(path.join(' '));
        walk(sub, path);
      }
    };
    walk(program(), []);
    expect(withUrl.sort()).toEqual([...REMOTE.map((r) => r.path.join(' ')), 'agent'].sort());
  });

  describe.each(REMOTE)('bcs $path', ({ path, extra }) => {
    const options = () => new Set(find(path).options.map((o) => o.long));
    const scenarios: [string, () => string[]][] = [
      ['a 403 without credentials', () => [...path, ...extra, '--url', url]],
      ['no source', () => [...path, ...extra]],
      ['--url and --stack at once', () => [...path, ...extra, '--url', url, '--stack', 'demo']],
      ['two ways to authenticate', () => [...path, ...extra, '--url', url, '--token', 't', '--aws-sigv4']],
      ['a malformed --stack', () => [...path, ...extra, '--stack', 'not a stack']],
    ];
    it.each(scenarios)('%s: exit 2, every flag named is an option', async (_, args) => {
      const { code, stderr } = await bcs(args());
      expect(code).toBe(2);
      expect(stderr).toMatch(/--[a-z]/);
      const known = options();
      expect(flagsIn(stderr).filter((f) => !known.has(f))).toEqual([]);
    });

    it('answers a 403 with the flags the stage needs, which the command accepts', async () => {
      const { stderr } = await bcs([...path, ...extra, '--url', url]);
      expect(stderr).toMatch(/HTTP 403/);
      expect(stderr).toContain('--aws-sigv4');
      expect(stderr).toContain('--api-key');
      for (const flag of ['--aws-sigv4', '--api-key', '--stack', '--token'])
        expect(options().has(flag)).toBe(true);
    });
  });

  describe('bcs agent', () => {
    const vm = ['agent', '--vm', 'i-0123456789abcdef0'];
    it.each([
      ['no source', [...vm], /give one of --url, --stack/],
      ['--url and --stack at once', [...vm, '--url', 'http://127.0.0.1:9/', '--stack', 'demo'], /one of/],
      [
        '--stack with the local runtime token',
        [...vm, '--stack', 'demo', '--queue-url', 'http://127.0.0.1:9/q', '--token', 't'],
        /--token is for --url/,
      ],
    ])('%s: exit 2, every flag named is an option', async (_, args, message) => {
      const { code, stderr } = await bcs(args);
      expect(code).toBe(2);
      expect(stderr).toMatch(message);
      const known = new Set(find(['agent']).options.map((o) => o.long));
      expect(flagsIn(stderr).filter((f) => !known.has(f))).toEqual([]);
    });

    // --stack alone finds the agent's queue from the stack (agents on AWS); a stack that cannot be
    // described (here: nothing listens at the endpoint) is a usage error naming --stack.
    it('--stack when the stack cannot be described: exit 2, every flag named is an option', async () => {
      for (const [k, v] of Object.entries({
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_MAX_ATTEMPTS: '1',
      }))
        vi.stubEnv(k, v);
      try {
        const { code, stderr } = await bcs([...vm, '--stack', 'demo']);
        expect(code).toBe(2);
        expect(stderr).toMatch(/--stack: cannot describe demo/);
        const known = new Set(find(['agent']).options.map((o) => o.long));
        expect(flagsIn(stderr).filter((f) => !known.has(f))).toEqual([]);
      } finally {
        vi.unstubAllEnvs();
      }
    });
  });

  describe('bcs destroy', () => {
    // The test's stdin is not a terminal: --delete-retained must refuse before any AWS call.
    it.each([
      [
        '--delete-retained without --yes',
        ['destroy', '--stack', 'demo', '--delete-retained'],
        /give --yes to confirm/,
      ],
      ['--yes alone', ['destroy', '--stack', 'demo', '--yes'], /--yes: only with --delete-retained/],
    ])('%s: exit 2, every flag named is an option', async (_, args, message) => {
      const { code, stderr } = await bcs(args);
      expect(code).toBe(2);
      expect(stderr).toMatch(message);
      const known = new Set(find(['destroy']).options.map((o) => o.long));
      expect(flagsIn(stderr).filter((f) => !known.has(f))).toEqual([]);
    });
  });

  it('refuses an unknown command, also with --help, naming it (exit 2)', async () => {
    for (const args of [['nosuch'], ['nosuch', '--help'], ['ledger', 'nosuch', '--help']]) {
      const { code, stderr } = await bcs(args);
      expect(code).toBe(2);
      expect(stderr).toContain(`unknown command '${args.filter((a) => !a.startsWith('-')).join(' ')}'`);
    }
    expect((await bcs(['emulator', '--help'])).code).toBe(0);
  });
});

// README "Node versions": the SDK's notice about its releases after January 2027 is silenced by bcs.
describe.skipIf(Number(process.versions.node.split('.')[0]) >= 22)('the AWS SDK Node version notice', () => {
  it('is not printed by a bcs command that builds an SDK client on Node 20', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_REGION: 'us-east-1',
    };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const bin = fileURLToPath(new URL('../../bin/bcs.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'ledger', 'public-key', '--kms-key-id', 'alias/none'], {
      env: { ...env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2); // nothing listens on port 9: the KMS call failed, so the client was built
    expect(stderr).not.toMatch(/NodeVersionSupportWarning/);
  });
});
