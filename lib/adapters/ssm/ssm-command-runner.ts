import { SendCommandCommand, type SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { CommandNotSentError, type CommandRequest, type CommandRunner } from '../../ports/dispatcher';

export interface SsmCommandRunnerOptions {
  client: SSMClient;
  /**
   * The stack's command document (cdk/lib/constructs/command-document.ts): it runs an allow-listed
   * template as the unprivileged task user, never a shell line.
   */
  documentName: string;
  /**
   * Seconds SSM keeps trying to deliver the command to an instance that is not reachable (30 at
   * least). @default 60
   */
  deliveryTimeoutSeconds?: number;
}

/** Runs an allow-listed command template on one instance with SSM Run Command and the stack's document. */
export class SsmCommandRunner implements CommandRunner {
  constructor(private readonly options: SsmCommandRunnerOptions) {}

  async send(request: CommandRequest): Promise<{ commandId: string }> {
    try {
      return await this.sendCommand(request);
    } catch (error) {
      // A 4xx answer (InvalidInstanceId, throttling after the SDK's retries, access denied) means SSM
      // did not accept the command; no answer, or a 5xx, leaves it open whether it did.
      const status = error instanceof SSMServiceException ? (error.$metadata.httpStatusCode ?? 0) : 0;
      if (status >= 400 && status < 500) {
        throw new CommandNotSentError(
          `${error instanceof Error ? error.name : 'Error'}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  private async sendCommand(request: CommandRequest): Promise<{ commandId: string }> {
    const { Command } = await this.options.client.send(
      new SendCommandCommand({
        DocumentName: this.options.documentName,
        InstanceIds: [request.instanceId],
        Comment: request.comment,
        // TimeoutSeconds bounds delivery only; the run itself is bounded by executionTimeout.
        TimeoutSeconds: this.options.deliveryTimeoutSeconds ?? 60,
        // The document's parameters (its allowedValues and allowedPattern check them again).
        Parameters: {
          template: [request.template],
          arguments: [request.arguments.join(' ')],
          executionTimeout: [String(request.timeoutSeconds)],
          // Only for GPU tasks, so that a document from before the parameter still takes the others.
          ...(request.devices === undefined ? {} : { gpuDevices: [request.devices.join(',')] }),
        },
      }),
    );
    if (!Command?.CommandId) throw new Error(`SendCommand to ${request.instanceId} returned no command id`);
    return { commandId: Command.CommandId };
  }
}
