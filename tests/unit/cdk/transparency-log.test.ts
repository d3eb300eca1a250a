import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { ValidationError } from '../../../lib/errors';
import { DESCRIPTIONS, functionId, statementsOf, synth } from './helpers';

const PUBLISHER = DESCRIPTIONS.publishLog;
const WITNESS = {
  url: 'https://witness.example/',
  key: 'example.test/litewitness+190baecd+BBKP9aMsVrJA31/R4LWxy/+Kuo2x7/x11R1Omb0oFAkO',
};

describe('transparency log (transparencyLog: true)', () => {
  const t = synth({ transparencyLog: true }).template();

  it('is on by default, and transparencyLog: false leaves out the bucket, the publisher and GET /checkpoint', () => {
    const byDefault = synth().template();
    byDefault.resourceCountIs('AWS::S3::Bucket', 1);
    byDefault.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp(PUBLISHER),
    });
    byDefault.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'checkpoint' });
    const off = synth({ transparencyLog: false }).template();
    off.resourceCountIs('AWS::S3::Bucket', 0);
    expect(
      Object.values(off.findResources('AWS::Lambda::Function')).filter((f) =>
        String(f.Properties.Description).startsWith(PUBLISHER),
      ),
    ).toEqual([]);
    expect(
      off.findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: 'checkpoint' } }),
    ).toEqual({});
  });

  it('has no unacknowledged cdk-nag finding, with every option on', () => {
    expect(() =>
      synth(
        { transparencyLog: true, witnesses: [WITNESS], logObjectLockDays: 30, logCloudFront: true },
        { nag: true },
      ),
    ).not.toThrow();
  });

  it('publishes to a versioned bucket with Block Public Access on, TLS only, without Object Lock or CloudFront', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    const bucket = Object.values(t.findResources('AWS::S3::Bucket'))[0]!;
    expect(bucket.Properties.ObjectLockEnabled).toBeUndefined();
    t.resourceCountIs('AWS::CloudFront::Distribution', 0);
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    t.hasOutput('LogBucketName', {});
  });

  it('runs every minute; may read the ledger, sign with the digest key and put/get log objects; no witness key', () => {
    const id = functionId(t, PUBLISHER);
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })],
    });
    const env = t.findResources('AWS::Lambda::Function')[id]!.Properties.Environment.Variables;
    expect(env.LOG_BUCKET).toEqual({ Ref: expect.stringMatching(/Bucket/) });
    expect(env.DIGEST_KEY_ID).toBeDefined();
    expect(env.WITNESSES).toBeUndefined();
    const statements = statementsOf(t, PUBLISHER);
    const sid = (s: string) => statements.find((x) => x.Sid === s);
    expect(sid('LogWrite')?.Action).toEqual(['s3:PutObject', 's3:GetObject']);
    // A missing checkpoint must be a 404 (NoSuchKey), which S3 gives only to a caller that may list.
    expect(sid('LogList')).toMatchObject({
      Action: 's3:ListBucket',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/Bucket/), 'Arn'] },
    });
    expect(sid('CheckpointSign')?.Action).toEqual(['kms:Sign', 'kms:GetPublicKey']);
    t.resourcePropertiesCountIs('AWS::KMS::Key', { KeySpec: 'ECC_NIST_EDWARDS25519' }, 0);
    t.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'WitnessCosignatures' }, 0);
  });
});

describe('transparency log props', () => {
  it('with witnesses: an Ed25519 KMS key, the witnesses in the environment, and the no-cosignature alarm', () => {
    const t = synth({
      transparencyLog: true,
      witnesses: [WITNESS],
      witnessAlarmMinutes: 30,
      logOrigin: 'example.com/ledger',
    }).template();
    t.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'ECC_NIST_EDWARDS25519', KeyUsage: 'SIGN_VERIFY' });
    const env =
      t.findResources('AWS::Lambda::Function')[functionId(t, PUBLISHER)]!.Properties.Environment.Variables;
    expect(JSON.parse(env.WITNESSES)).toEqual([WITNESS]);
    expect(env.CHECKPOINT_ORIGIN).toBe('example.com/ledger');
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'WitnessCosignatures',
      Period: 1800,
      ComparisonOperator: 'LessThanThreshold',
      AlarmActions: Match.anyValue(),
    });
  });

  it('Object Lock in compliance mode and CloudFront with origin access control', () => {
    const t = synth({ transparencyLog: true, logObjectLockDays: 365, logCloudFront: true }).template();
    t.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } },
      },
    });
    t.resourceCountIs('AWS::CloudFront::Distribution', 1);
    t.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
  });

  it('refuses a bad origin, a witness key that is not a cosignature key, and witnesses without the log', () => {
    const fields = (props: Parameters<typeof synth>[0]) => {
      try {
        synth(props);
      } catch (error) {
        return (error as ValidationError).issues.map((i) => i.field);
      }
      return [];
    };
    expect(fields({ transparencyLog: true, logOrigin: 'has space' })).toContain('logOrigin');
    expect(fields({ witnesses: [{ url: WITNESS.url, key: 'x+00000000+AAAA' }] })).toContain('witnesses');
    expect(fields({ transparencyLog: false, witnesses: [WITNESS] })).toContain('witnesses');
    expect(fields({ logObjectLockDays: -1 })).toContain('logObjectLockDays');
  });
});
