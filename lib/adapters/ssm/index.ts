export { RUN_SHELL_SCRIPT, SsmCommandRunner, type SsmCommandRunnerOptions } from './ssm-command-runner';
