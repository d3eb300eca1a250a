import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { propsFromContext } from '../lib/context';
import { SchedulerStack } from '../lib/scheduler-stack';

const app = new App();
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'BlockchainCloudScheduler';
new SchedulerStack(app, stackName, {
  scheduler: propsFromContext((key) => app.node.tryGetContext(key)),
  description: 'Blockchain cloud scheduler: tasks placed on VMs, every decision in a verifiable ledger',
});
// Every finding is either fixed or acknowledged in code next to the resource, with its reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
