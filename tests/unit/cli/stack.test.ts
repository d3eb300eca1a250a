import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import { environment } from '../../../cli/commands/emulator';
import { usageData } from '../../../cli/emulator-fleet';
import { CliExit } from '../../../cli/exit';
import { apiBaseUrl, readStackOutputs, stackOutput } from '../../../cli/stack';
import { INSTANCE_METRICS } from '../../../lib/adapters/aws/metric-queries';
import { walkthroughBlocks } from '../../aws/helpers/walkthrough';

const AWS_URL = 'https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod/';

/** A CloudFormation client that answers DescribeStacks with `answer` (or throws it). */
function fakeClient(answer: unknown): CloudFormationClient {
  return {
    send: async () => {
      if (answer instanceof Error) throw answer;
      return answer;
    },
    destroy: () => {},
    config: { region: async () => 'eu-west-1' },
  } as unknown as CloudFormationClient;
}

describe('stack outputs for bcs --stack', () => {
  it('gives the ApiUrl on AWS and the emulator data plane when an endpoint is set', () => {
    const outputs = { ApiUrl: AWS_URL, EmulatorApiPath: '/_aws/execute-api/abc123defg/prod/' };
    // '' and not undefined: undefined takes the default, AWS_ENDPOINT_URL, which the aws project's
    // global setup exports to every test worker.
    expect(apiBaseUrl(outputs, 's', '')).toBe(AWS_URL);
    expect(apiBaseUrl(outputs, 's', 'http://127.0.0.1:4566/')).toBe(
      'http://127.0.0.1:4566/_aws/execute-api/abc123defg/prod/',
    );
    // A stack deployed before the EmulatorApiPath output: rebuilt from ApiUrl.
    expect(apiBaseUrl({ ApiUrl: AWS_URL }, 's', 'http://127.0.0.1:4566')).toBe(
      'http://127.0.0.1:4566/_aws/execute-api/abc123defg/prod/',
    );
  });

  it('names a missing output and the ones the stack has', () => {
    expect(() => stackOutput({ TableName: 't' }, 'DigestKeyArn', 'demo')).toThrow(
      '--stack: demo has no output DigestKeyArn (outputs: TableName); redeploy it with this version',
    );
    expect(() => apiBaseUrl({}, 'demo', undefined)).toThrow(CliExit);
  });

  it('reads outputs from DescribeStacks, and names a stack that does not exist', async () => {
    const answer = {
      Stacks: [{ Outputs: [{ OutputKey: 'TableName', OutputValue: 'ledger-1' }, { OutputKey: 'X' }] }],
    };
    expect(await readStackOutputs('demo', fakeClient(answer))).toEqual({ TableName: 'ledger-1' });
    const missing = new Error('Stack with id nosuch does not exist');
    await expect(readStackOutputs('nosuch', fakeClient(missing))).rejects.toThrow(/no stack named nosuch in/);
    await expect(readStackOutputs('not a name', fakeClient(answer))).rejects.toThrow(
      '--stack: must be a CloudFormation stack name',
    );
  });
});

describe('bcs emulator env', () => {
  it('exports the endpoint and dummy credentials and unsets a session token and profile', () => {
    const text = environment('http://127.0.0.1:4566');
    expect(text).toContain('export AWS_ENDPOINT_URL=http://127.0.0.1:4566\n');
    expect(text).toContain('export AWS_ACCESS_KEY_ID=test\n');
    expect(text).toContain('export AWS_REGION=us-east-1\n');
    expect(text.trim().split('\n').at(-1)).toBe('unset AWS_SESSION_TOKEN AWS_PROFILE');
  });
});

describe('bcs fleet usage data', () => {
  it('publishes every metric the fleet reader queries, by name and namespace order', () => {
    const at = new Date('2026-12-07T15:00:00Z');
    const data = usageData(
      'i-0123456789abcdef0',
      { cpuPercent: 20, memPercent: 50, ioBytesPerMinute: 6e6, netBytesPerMinute: 8e6 },
      at,
    );
    expect(data.map((d) => d.MetricName)).toEqual(INSTANCE_METRICS.map((m) => m.name));
    // cpu and mem as given; the byte counters split evenly between their two metrics.
    expect(data.map((d) => d.Value)).toEqual([20, 50, 3e6, 3e6, 4e6, 4e6]);
    expect(data.every((d) => d.Timestamp === at && d.Dimensions?.[0]?.Value === 'i-0123456789abcdef0')).toBe(
      true,
    );
  });
});

describe('walkthrough blocks', () => {
  it('takes each marked sh block in order and refuses a marker without one', () => {
    const doc = [
      'x',
      '<!-- walkthrough: a -->',
      '```sh',
      'echo 1',
      'echo 2',
      '```',
      '```sh',
      'not marked',
      '```',
      '<!-- walkthrough: b -->',
      '```sh',
      'echo 3',
      '```',
    ].join('\n');
    expect(walkthroughBlocks(doc)).toEqual([
      { name: 'a', code: 'echo 1\necho 2' },
      { name: 'b', code: 'echo 3' },
    ]);
    expect(() => walkthroughBlocks('<!-- walkthrough: c -->\n\n```sh\n```')).toThrow(/not followed/);
    // Another kind of marker: only its blocks.
    const production = `${doc}\n<!-- production: tear-down -->\n\`\`\`sh\necho 4\n\`\`\``;
    expect(walkthroughBlocks(production, 'production')).toEqual([{ name: 'tear-down', code: 'echo 4' }]);
    expect(walkthroughBlocks(production)).toHaveLength(2);
  });
});
