import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { Ec2Drain } from '../lib/adapters/autoscaling/ec2-drain';
import { AutoScalingTerminationLifecycle } from '../lib/adapters/autoscaling/termination-lifecycle';
import { scaleInEnvSchema, scaleInHandler } from './handlers/scale-in';
import { readEnv } from './shared/config';
import { ledgerStore } from './shared/wiring';

const env = readEnv(scaleInEnvSchema);
const drain = new Ec2Drain(new EC2Client({}));

export const handler = scaleInHandler({
  env,
  lifecycle: new AutoScalingTerminationLifecycle(
    new AutoScalingClient({}),
    env.AUTO_SCALING_GROUP_NAME,
    env.LIFECYCLE_HOOK_NAME,
  ),
  termination: {
    drain: (id) => drain.drain(id),
    store: ledgerStore(env),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  },
  logger: new Logger(),
});
