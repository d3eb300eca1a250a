import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlockchainSchedulerProps } from '../../../cdk/lib/props';
import { SSM_TEMPLATES, synth } from './helpers';

/**
 * Oracles stricter than the emulator: cfn-lint (CloudFormation's resource schemas and rules) and
 * checkov (security policies) on every synthesized variant. MiniStack accepts templates AWS would
 * reject; these read them as AWS and a reviewer would. Both run from the pinned venv that
 * scripts/oracles/setup.sh (the pretest hook) creates.
 */
const run = promisify(execFile);
const VENV = join(import.meta.dirname, '../../../.venv-oracles/bin');
const CFN_LINT = join(VENV, 'cfn-lint');
const CHECKOV = join(VENV, 'checkov');

const VARIANTS: Record<string, BlockchainSchedulerProps> = {
  default: {},
  'dispatch-ssm-autoscaling': {
    dispatch: true,
    dispatchViaSsm: true,
    commandTemplates: SSM_TEMPLATES,
    autoScaling: true,
  },
  'api-key': { authMode: 'api-key' },
  'agents-autoscaling': { dispatch: true, agents: true, autoScaling: true },
  // The transparency log is on in every variant (the default); here with every option it has.
  'transparency-log-all': {
    witnesses: [
      {
        url: 'https://witness.example/',
        key: 'example.test/litewitness+190baecd+BBKP9aMsVrJA31/R4LWxy/+Kuo2x7/x11R1Omb0oFAkO',
      },
    ],
    logObjectLockDays: 30,
    logCloudFront: true,
  },
};

/**
 * cfn-lint warnings accepted, each with its reason; every other warning and every error fails.
 * W3005: CDK adds an explicit DependsOn on a function's role policy next to the GetAtt of its role
 * (the policy must exist before the function runs; GetAtt orders only the role).
 * W3010: the availability zones of the test app's dummy context lookup (a real synth looks them up).
 */
const ACCEPTED_WARNINGS = new Set(['W3005', 'W3010']);

type LintMatch = { Level: string; Rule: { Id: string }; Message: string; Filename: string };
type CheckovCheck = {
  check_id: string;
  resource: string;
  file_path: string;
  check_result: { result: string; suppress_comment?: string };
};
type CheckovReport = {
  summary: { failed: number; parsing_errors: number; resource_count: number };
  results: { failed_checks: CheckovCheck[]; skipped_checks?: CheckovCheck[] };
};

let dir: string;
const files: string[] = [];

/** Runs a tool that exits non-zero on findings; its JSON on stdout is the answer either way. */
async function jsonOf<T>(cmd: string, args: string[]): Promise<T> {
  try {
    const { stdout } = await run(cmd, args, { maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout) as T;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    if (err.stdout?.trim().startsWith('[') || err.stdout?.trim().startsWith('{'))
      return JSON.parse(err.stdout) as T;
    throw new Error(`${cmd} failed (exit ${err.code}): ${err.stderr}`);
  }
}

const cfnLint = (paths: string[]) => jsonOf<LintMatch[]>(CFN_LINT, ['--format', 'json', ...paths]);
async function checkov(paths: string[]): Promise<CheckovReport> {
  const out = await jsonOf<CheckovReport | CheckovReport[]>(CHECKOV, [
    ...paths.flatMap((p) => ['-f', p]),
    '--framework',
    'cloudformation',
    '--output',
    'json',
  ]);
  const reports = Array.isArray(out) ? out : [out];
  expect(reports).toHaveLength(1);
  return reports[0]!;
}

beforeAll(() => {
  if (!existsSync(CFN_LINT) || !existsSync(CHECKOV)) {
    throw new Error('cfn-lint/checkov missing: run `bash scripts/oracles/setup.sh` (the pretest hook does)');
  }
  dir = mkdtempSync(join(tmpdir(), 'bcs-oracles-'));
  for (const [name, props] of Object.entries(VARIANTS)) {
    const path = join(dir, `${name}.json`);
    writeFileSync(path, JSON.stringify(synth(props).template().toJSON(), null, 1));
    files.push(path);
  }
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cfn-lint', () => {
  it('reports no error, and no warning but the accepted ones, on every variant', async () => {
    const matches = await cfnLint(files);
    const unexpected = matches
      .filter((m) => m.Level === 'Error' || !ACCEPTED_WARNINGS.has(m.Rule.Id))
      .map((m) => `${m.Filename}: ${m.Rule.Id} ${m.Message}`);
    expect(unexpected).toEqual([]);
  }, 180_000);

  it('finds an error it is shown (the oracle runs and reads the template)', async () => {
    const { template } = synth({});
    const json = template().toJSON() as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const fn = Object.values(json.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
    fn.Properties.Runtime = 'nodejs99.x';
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify(json));
    const matches = await cfnLint([broken]);
    expect(matches.some((m) => m.Level === 'Error' && m.Message.includes('nodejs99.x'))).toBe(true);
  }, 180_000);
});

describe('checkov', () => {
  let report: CheckovReport;
  beforeAll(async () => {
    report = await checkov(files);
  }, 300_000);

  it('parses every variant and fails no check', () => {
    expect(report.summary.parsing_errors).toBe(0);
    expect(report.summary.resource_count).toBeGreaterThan(100);
    expect(report.results.failed_checks.map((c) => `${c.file_path} ${c.resource} ${c.check_id}`)).toEqual([]);
  });

  it('skips a finding only with its reason written next to the resource', () => {
    const skipped = report.results.skipped_checks ?? [];
    expect(skipped.length).toBeGreaterThan(0);
    const unexplained = skipped.filter((c) => (c.check_result.suppress_comment ?? '').length < 40);
    expect(unexplained.map((c) => `${c.resource} ${c.check_id}`)).toEqual([]);
  });

  it('fails a resource whose suppression is removed (the skips are what keeps it green)', async () => {
    const { template } = synth({});
    const json = template().toJSON() as {
      Resources: Record<string, { Type: string; Metadata: Record<string, unknown> }>;
    };
    const table = Object.values(json.Resources).find((r) => r.Type === 'AWS::DynamoDB::Table')!;
    delete table.Metadata.checkov;
    const stripped = join(dir, 'stripped.json');
    writeFileSync(stripped, JSON.stringify(json));
    const r = await checkov([stripped]);
    expect(r.results.failed_checks.map((c) => c.check_id)).toContain('CKV_AWS_119');
  }, 300_000);
});
