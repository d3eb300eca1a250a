/**
 * The fleet monitor's CloudWatch metrics. Every one carries the FLEET dimension (the stack's name), so
 * two deployments in one account and namespace never mix; Utilisation adds RESOURCE (a dimension
 * name, or `binding`) and is a statistic set over the active VMs: Average is the mean, Maximum the
 * fullest VM. The target-tracking policy (cdk/lib/constructs/autoscaling.ts) reads BacklogPerInstance.
 */
export const SCALING_METRICS = {
  backlog: 'Backlog',
  backlogPerInstance: 'BacklogPerInstance',
  activeInstances: 'ActiveInstances',
  drainingInstances: 'DrainingInstances',
  freeToTerminate: 'FreeToTerminate',
  utilisation: 'Utilisation',
} as const;

export const SCALING_DIMENSIONS = { fleet: 'Fleet', resource: 'Resource' } as const;
