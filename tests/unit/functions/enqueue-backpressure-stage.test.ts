import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { THROTTLED_RETRY_AFTER_S } from '../../../cdk/lib/constructs/api';
import { DEFAULTS } from '../../../cdk/lib/defaults';
import { synth } from '../cdk/helpers';

/**
 * On AWS the gateway answers 429 before the enqueue function runs: stage throttling applies to every
 * method, and in api-key mode the usage plan throttles each key the same way. (MiniStack enforces
 * neither; docs/emulator.md.)
 */
describe('API Gateway throttling: the 429 on AWS comes from stage props', () => {
  const stageThrottle = (rate: number, burst: number) => ({
    MethodSettings: Match.arrayWith([
      Match.objectLike({
        HttpMethod: '*',
        ResourcePath: '/*',
        ThrottlingRateLimit: rate,
        ThrottlingBurstLimit: burst,
      }),
    ]),
  });

  it('defaults to the documented rate and burst', () => {
    const t = synth().template();
    t.hasResourceProperties(
      'AWS::ApiGateway::Stage',
      stageThrottle(DEFAULTS.throttlingRateLimit, DEFAULTS.throttlingBurstLimit),
    );
    t.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
  });

  it('takes rate and burst from the stack props, on the stage and on the api-key usage plan', () => {
    const t = synth({ throttlingRateLimit: 7.5, throttlingBurstLimit: 12, authMode: 'api-key' }).template();
    t.hasResourceProperties('AWS::ApiGateway::Stage', stageThrottle(7.5, 12));
    t.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 7.5, BurstLimit: 12 },
    });
  });

  it("the gateway's 429 carries Retry-After, as the function's 503 does", () => {
    synth()
      .template()
      .hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'THROTTLED',
        ResponseParameters: {
          'gatewayresponse.header.Retry-After': `'${THROTTLED_RETRY_AFTER_S}'`,
        },
      });
  });

  it.each([
    ['throttlingRateLimit', { throttlingRateLimit: 0 }],
    ['throttlingBurstLimit', { throttlingBurstLimit: 1.5 }],
  ])('refuses a bad %s, naming it', (field, props) => {
    expect(() => synth(props)).toThrow(field);
  });
});
