import type { Command } from 'commander';
import * as z from 'zod';
import {
  ApiClient,
  HttpStatusError,
  parseAnswer as parseClientAnswer,
  type RequestSigner,
  UnexpectedAnswerError,
  UnreachableError,
} from '../http/client';
import { parseOrThrow } from '../lib/errors';
import { awsSigv4Signer, signingRegion } from './aws-sigv4';
import { CliExit, EXIT_USAGE } from './exit';
import { apiBaseUrl, readStackOutputs } from './stack';

/** How the CLI reaches a server's HTTP API: the local runtime or the API Gateway stage alike. */
export interface RemoteFlags {
  url?: string;
  /** A deployed stack whose outputs give the URL (CloudFormation DescribeStacks), instead of --url. */
  stack?: string;
  /** Bearer token (the local runtime's --token). */
  token?: string;
  /** API Gateway key, sent as x-api-key (stack deployed with authMode=api-key). */
  apiKey?: string;
  /** SigV4 for execute-api (the stack's default authMode=iam); `true` when given without a region. */
  awsSigv4?: string | true;
}

/** A server the CLI reads from. */
export interface Remote {
  /** The base URL, ending in `/` so that relative paths keep an API Gateway stage prefix. */
  readonly base: URL;
  /**
   * GET `path` (relative to the base). Network failures and non-2xx answers other than `accept`
   * are I/O errors (exit 2).
   */
  get(path: string, accept?: readonly number[]): Promise<Response>;
  /** Any method, with an optional JSON body; the same errors as `get`. */
  send(
    method: string,
    path: string,
    options?: { body?: string; accept?: readonly number[] },
  ): Promise<Response>;
}

/** Long enough for a cold Lambda behind API Gateway (29 s integration limit), short of hanging forever. */
const REQUEST_TIMEOUT_MS = 60_000;
const MAX_ERROR_BODY = 500;

const regionSchema = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'not an AWS region (e.g. us-east-1)');

// Keyed by flag name, so that a ValidationError names the flag the user typed.
const remoteFlagsSchema = z
  .object({
    '--url': z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    '--token': z.string().min(1, 'must not be empty').optional(),
    '--api-key': z
      .string()
      .regex(/^[\x21-\x7e]{20,128}$/, 'must be 20-128 printable ASCII characters (an API Gateway key)')
      .optional(),
    '--aws-sigv4': regionSchema.optional(),
    sigv4: z.boolean(),
  })
  .superRefine(oneWayToAuthenticate);

/** A zod refinement for flags that take at most one of --token, --api-key and --aws-sigv4. */
export function oneWayToAuthenticate(
  flags: { '--token'?: string; '--api-key'?: string; sigv4: boolean },
  ctx: z.RefinementCtx,
): void {
  const given = [
    flags['--token'] !== undefined && '--token',
    flags['--api-key'] !== undefined && '--api-key',
    flags.sigv4 && '--aws-sigv4',
  ].filter((k) => typeof k === 'string');
  if (given.length > 1) {
    ctx.addIssue({
      code: 'custom',
      path: [given[1]!],
      message: `cannot be combined with ${given[0]}: give one way to authenticate`,
    });
  }
}

/** Adds --url (or --stack) and the three ways to authenticate to a command. */
export function withRemoteOptions(command: Command): Command {
  return command
    .option('--url <url>', 'a server: the local runtime, or the API URL of the AWS stack')
    .option(
      '--stack <name>',
      "instead of --url: the deployed stack's API, read from its outputs (on the emulator when AWS_ENDPOINT_URL is set)",
    )
    .option('--token <token>', 'bearer token for --url (local runtime)')
    .option('--api-key <key>', 'API Gateway key for --url, sent as x-api-key (authMode=api-key)')
    .option(
      '--aws-sigv4 [region]',
      'sign --url requests with SigV4 (authMode=iam), credentials from the AWS default chain; region defaults to the one in the URL, then AWS_REGION',
    );
}

/**
 * The flags with `url` filled in from `--stack` (DescribeStacks), so that every remote command takes
 * either; both at once is a usage error.
 */
export async function resolveStack<F extends RemoteFlags>(flags: F): Promise<F> {
  if (flags.stack === undefined) return flags;
  if (flags.url !== undefined) throw new CliExit(EXIT_USAGE, 'give one of --url, --stack');
  return { ...flags, url: apiBaseUrl(await readStackOutputs(flags.stack), flags.stack) };
}

/** The authentication flags given, for refusing them where there is no --url to send them to. */
export function authFlagsGiven(flags: RemoteFlags): string[] {
  return [
    flags.token !== undefined && '--token',
    flags.apiKey !== undefined && '--api-key',
    flags.awsSigv4 !== undefined && '--aws-sigv4',
  ].filter((k) => typeof k === 'string');
}

/**
 * The remote the flags describe (--url, or --stack's API); a usage error (exit 2) naming the flag when
 * one is malformed.
 */
export async function openRemote(given: RemoteFlags): Promise<Remote> {
  const flags = await resolveStack(given);
  const valid = parseOrThrow(
    remoteFlagsSchema,
    {
      '--url': flags.url,
      '--token': flags.token,
      '--api-key': flags.apiKey,
      '--aws-sigv4': flags.awsSigv4 === true ? undefined : flags.awsSigv4,
      sigv4: flags.awsSigv4 !== undefined,
    },
    'invalid options',
  );
  const base = new URL(valid['--url'].endsWith('/') ? valid['--url'] : `${valid['--url']}/`);
  const sign: RequestSigner = flags.awsSigv4
    ? awsSigv4Signer(signingRegion(valid['--aws-sigv4'], base))
    : staticHeaders(valid['--token'], valid['--api-key']);
  const client = new ApiClient({ url: base, sign, timeoutMs: REQUEST_TIMEOUT_MS }, MAX_ERROR_BODY);
  async function send(
    method: string,
    path: string,
    { body, accept = [] }: { body?: string; accept?: readonly number[] } = {},
  ): Promise<Response> {
    try {
      return await client.request(method, path, { ...(body === undefined ? {} : { body }), accept });
    } catch (error) {
      if (error instanceof UnreachableError) {
        if (error.cause instanceof CliExit) throw error.cause;
        throw new CliExit(EXIT_USAGE, `cannot reach ${error.url.origin}: ${(error.cause as Error).message}`);
      }
      if (error instanceof HttpStatusError) {
        throw new CliExit(EXIT_USAGE, `${error.message}${authHint(error.status, flags)}`);
      }
      throw error;
    }
  }
  return { base, send, get: (path, accept = []) => send('GET', path, { accept }) };
}

/**
 * What to add to a refusal for lack of credentials. Names only flags of withRemoteOptions, which every
 * remote command has (tests/local/cli-hints.test.ts checks each command's hints against its options).
 */
export function authHint(status: number, flags: RemoteFlags): string {
  if (status !== 401 && status !== 403) return '';
  if (flags.awsSigv4 || flags.apiKey) return '';
  return ' (an API Gateway stage needs --aws-sigv4 or --api-key; the local runtime with BCS_TOKEN needs --token)';
}

/** GET a JSON answer the CLI relies on; one that does not fit `schema` is an I/O error naming the field. */
export async function getJson<S extends z.ZodType>(
  remote: Remote,
  path: string,
  schema: S,
): Promise<z.output<S>> {
  return parseAnswer(await remote.get(path), path, schema);
}

/** getJson, with 404 (no such resource) answered as null rather than an error. */
export async function getJsonIfFound<S extends z.ZodType>(
  remote: Remote,
  path: string,
  schema: S,
): Promise<z.output<S> | null> {
  const response = await remote.get(path, [404]);
  if (response.status === 404) {
    await response.body?.cancel();
    return null;
  }
  return parseAnswer(response, path, schema);
}

async function parseAnswer<S extends z.ZodType>(
  response: Response,
  path: string,
  schema: S,
): Promise<z.output<S>> {
  try {
    return await parseClientAnswer(response, `GET ${path}`, schema);
  } catch (error) {
    if (error instanceof UnexpectedAnswerError) throw new CliExit(EXIT_USAGE, error.message);
    throw error;
  }
}

function staticHeaders(token: string | undefined, apiKey: string | undefined): RequestSigner {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (apiKey !== undefined) headers['x-api-key'] = apiKey;
  return async () => headers;
}
