import type { GroupInstance, ProtectionChanges } from '../scaling/protection';
import type { UtilisationStats } from '../scaling/utilisation';

/** Tasks submitted and not yet placed (on AWS: the task queue's visible, delayed and in-flight messages). */
export interface BacklogGauge {
  backlog(): Promise<number>;
}

/** One run's figures, as published. */
export interface ScalingSnapshot {
  /** Epoch ms the figures were taken. */
  readonly at: number;
  readonly backlog: number;
  readonly activeInstances: number;
  readonly drainingInstances: number;
  /** VMs draining with no task left (lib/scaling/protection.ts freeToTerminate). */
  readonly freeToTerminate: number;
  readonly backlogPerInstance: number;
  readonly utilisation: readonly UtilisationStats[];
}

export interface ScalingMetricsSink {
  publish(snapshot: ScalingSnapshot): Promise<void>;
}

/** An Auto Scaling group's scale-in protection. */
export interface ScaleInProtection {
  instances(): Promise<GroupInstance[]>;
  apply(changes: ProtectionChanges): Promise<void>;
}

/** An instance an Auto Scaling group is terminating, held by the stack's termination lifecycle hook. */
export interface TerminatingInstance {
  readonly instanceId: string;
  readonly groupName: string;
  readonly hookName: string;
  /** The lifecycle event's token; absent when found by listing the group (the instance id names it). */
  readonly token?: string;
}

/** The Auto Scaling lifecycle actions of the termination hook. */
export interface TerminationLifecycle {
  /** Instances of the group held in Terminating:Wait by the hook right now. */
  waiting(): Promise<TerminatingInstance[]>;
  /** Lets the termination go on (CompleteLifecycleAction, CONTINUE). */
  release(instance: TerminatingInstance): Promise<void>;
  /** Keeps holding it (RecordLifecycleActionHeartbeat: the hook's heartbeat timeout starts again). */
  hold(instance: TerminatingInstance): Promise<void>;
}
