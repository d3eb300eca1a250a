import { SendCommandCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { CommandRequest, CommandRunner } from '../../ports/dispatcher';

/** The AWS-managed document that runs shell lines on Linux instances. */
export const RUN_SHELL_SCRIPT = 'AWS-RunShellScript';

export interface SsmCommandRunnerOptions {
  client: SSMClient;
  /**
   * Seconds SSM keeps trying to deliver the command to an instance that is not reachable (30 at
   * least). @default 60
   */
  deliveryTimeoutSeconds?: number;
}

/** Runs a command on one instance with SSM Run Command (AWS-RunShellScript). */
export class SsmCommandRunner implements CommandRunner {
  constructor(private readonly options: SsmCommandRunnerOptions) {}

  async send(request: CommandRequest): Promise<{ commandId: string }> {
    const { Command } = await this.options.client.send(
      new SendCommandCommand({
        DocumentName: RUN_SHELL_SCRIPT,
        InstanceIds: [request.instanceId],
        Comment: request.comment,
        // TimeoutSeconds bounds delivery only; the run itself is bounded by executionTimeout.
        TimeoutSeconds: this.options.deliveryTimeoutSeconds ?? 60,
        Parameters: {
          commands: request.commands,
          executionTimeout: [String(request.timeoutSeconds)],
        },
      }),
    );
    if (!Command?.CommandId) throw new Error(`SendCommand to ${request.instanceId} returned no command id`);
    return { commandId: Command.CommandId };
  }
}
