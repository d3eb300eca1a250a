export { SsmCommandRunner, type SsmCommandRunnerOptions } from './ssm-command-runner';
