import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { actionsOf, DESCRIPTIONS, functionId, type Statement, statementsOf, synth } from '../cdk/helpers';

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
type KeyStatement = Statement & { Principal: { AWS: unknown } };

let prod: Template;
let test: Template;
beforeAll(() => {
  prod = synth().template();
  test = synth({ stage: 'test', authMode: 'api-key', cloudWatchRole: false }).template();
}, 120_000);

/** The signing keys (SIGN_VERIFY): the alarm topic's symmetric key is not one of them. */
const keys = (t: Template) =>
  Object.entries(
    t.findResources('AWS::KMS::Key', { Properties: { KeyUsage: 'SIGN_VERIFY' } }) as Record<string, Resource>,
  );
const roleId = (t: Template, description: string): string => {
  const fn = (t.findResources('AWS::Lambda::Function') as Record<string, Resource>)[
    functionId(t, description)
  ]!;
  return (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
};
const verifyRoleId = (t: Template): string => roleId(t, DESCRIPTIONS.verify);

describe('the digest-signing key', () => {
  it('is one asymmetric P-256 signing key; no automatic rotation (KMS has none for asymmetric keys)', () => {
    const all = keys(prod);
    expect(all).toHaveLength(1);
    expect(all[0]![1].Properties).toMatchObject({
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      EnableKeyRotation: false,
      PendingWindowInDays: 7,
    });
  });

  it('is kept when a production stack goes, deleted with a test stack', () => {
    expect(keys(prod)[0]![1].DeletionPolicy).toBe('Retain');
    expect(keys(test)[0]![1].DeletionPolicy).toBe('Delete');
  });

  it('key policy: the account administers it, only the verify and publish-log roles may Sign', () => {
    const [, key] = keys(prod)[0]!;
    const statements = (key.Properties.KeyPolicy as { Statement: KeyStatement[] }).Statement;
    // The transparency log (on by default) signs its checkpoints with this key: note signature type
    // 0x02 over the checkpoint text (docs/ledger-format.md section 12), never a digest's JSON.
    // The full re-audit's merge function signs the head it verified (a digest, as the verify function).
    expect(statements.map((s) => s.Sid)).toEqual([
      'KeyAdministration',
      'VerifyFunctionSigns',
      'FullAuditMergeSigns',
      'PublishLogSigns',
    ]);
    const [admin, signer, , publisher] = statements as [
      KeyStatement,
      KeyStatement,
      KeyStatement,
      KeyStatement,
    ];
    expect(actionsOf([publisher])).toEqual(['kms:GetPublicKey', 'kms:Sign']);
    expect(publisher.Principal.AWS).toEqual({ 'Fn::GetAtt': [roleId(prod, DESCRIPTIONS.publishLog), 'Arn'] });
    // No wildcard that would include Sign, Verify or any other cryptographic use.
    for (const action of actionsOf([admin])) {
      expect(['kms:*', 'kms:Sign', 'kms:Verify', 'kms:S*']).not.toContain(action);
      expect(action).not.toMatch(/^kms:(Sign|Verify|Encrypt|Decrypt|ReEncrypt|Generate)/);
    }
    expect(actionsOf([signer])).toEqual(['kms:GetPublicKey', 'kms:Sign']);
    expect(signer.Principal.AWS).toEqual({ 'Fn::GetAtt': [verifyRoleId(prod), 'Arn'] });
  });

  it('the verify role signs with this key only and writes DIGEST# items and audit jobs only', () => {
    const statements = statementsOf(prod, DESCRIPTIONS.verify);
    const [keyId] = keys(prod)[0]!;
    const kms = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('kms:')));
    expect(kms).toHaveLength(1);
    expect(actionsOf(kms)).toEqual(['kms:GetPublicKey', 'kms:Sign']);
    expect(kms[0]!.Resource).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });

    const writes = statements.filter((s) =>
      actionsOf([s]).some((a) =>
        /^dynamodb:(Put|Update|Delete|BatchWrite|TransactWrite|ConditionCheck)/.test(a),
      ),
    );
    // DIGEST# items, and the full re-audit's job record (AUDIT#, POST /ledger/verify {"full": true}).
    expect(writes.map((w) => [actionsOf([w]), w.Condition])).toEqual([
      [['dynamodb:PutItem'], { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['DIGEST#*'] } }],
      [['dynamodb:PutItem'], { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['AUDIT#*'] } }],
    ]);
  });

  it('no other function may use the key', () => {
    for (const [name, description] of Object.entries(DESCRIPTIONS)) {
      if (name === 'verify' || name === 'publishLog') continue;
      expect(actionsOf(statementsOf(prod, description)).filter((a) => a.startsWith('kms:'))).toEqual([]);
    }
  });

  it('the verify function is told the key ARN', () => {
    const [keyId] = keys(prod)[0]!;
    const fn = (prod.findResources('AWS::Lambda::Function') as Record<string, Resource>)[
      functionId(prod, DESCRIPTIONS.verify)
    ]!;
    expect(
      (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.DIGEST_KEY_ID,
    ).toEqual({
      'Fn::GetAtt': [keyId, 'Arn'],
    });
  });
});
