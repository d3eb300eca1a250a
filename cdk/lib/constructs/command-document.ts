import { Stack } from 'aws-cdk-lib';
import { CfnDocument } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  ARGUMENTS_PATTERN,
  type CommandTemplates,
  shellQuote,
  TASK_USER,
  TEMPLATE_DIR,
  TEMPLATE_NAME,
  templateScript,
} from '../../../lib/dispatch/command-templates';

/**
 * The only SSM document the dispatcher may send (instead of AWS-RunShellScript, which runs any shell
 * text as root): it runs one allow-listed command template as the unprivileged task user.
 *
 * - `template` must be one of the template names (`allowedValues`), `arguments` must match
 *   ARGUMENTS_PATTERN (space-separated words without shell metacharacters), `executionTimeout`
 *   digits: SSM refuses any other value at SendCommand, before anything reaches an instance.
 * - `template` and `arguments` reach the script as environment variables (`interpolationType:
 *   ENV_VAR`, SSM_template and SSM_arguments), not pasted into its text; the script checks the name
 *   again, turns globbing off, and execs the template's root-owned file under TEMPLATE_DIR through
 *   `runuser -u bcs-task`, the arguments as separate words.
 */
/** The gpuDevices parameter: up to 64 device indexes 0-63, comma-separated, or empty. */
export const GPU_DEVICES_PATTERN = '^([0-9]{1,2}(,[0-9]{1,2}){0,63})?$';

export class CommandDocument extends Construct {
  readonly document: CfnDocument;
  /** The document's name (the dispatcher's COMMAND_DOCUMENT_NAME). */
  readonly documentName: string;
  readonly documentArn: string;

  constructor(scope: Construct, id: string, props: { readonly templates: CommandTemplates }) {
    super(scope, id);
    const names = Object.keys(props.templates).sort();
    this.document = new CfnDocument(this, 'Document', {
      documentType: 'Command',
      documentFormat: 'JSON',
      updateMethod: 'NewVersion',
      content: commandDocumentContent(names),
    });
    this.documentName = this.document.ref;
    const { partition, region, account } = Stack.of(this);
    this.documentArn = `arn:${partition}:ssm:${region}:${account}:document/${this.documentName}`;
  }
}

/** The document's content (schema 2.2) for these template names. */
export function commandDocumentContent(names: readonly string[]) {
  return {
    schemaVersion: '2.2',
    description: `Runs an allow-listed blockchain-cloud-scheduler command template as ${TASK_USER}`,
    parameters: {
      template: {
        type: 'String',
        description: 'Name of the command template',
        allowedValues: [...names],
        interpolationType: 'ENV_VAR',
        allowedPattern: TEMPLATE_NAME.source,
      },
      arguments: {
        type: 'String',
        description: 'Space-separated arguments, each checked against the template',
        default: '',
        interpolationType: 'ENV_VAR',
        allowedPattern: ARGUMENTS_PATTERN,
      },
      gpuDevices: {
        type: 'String',
        description:
          'GPU devices of the task (CUDA_VISIBLE_DEVICES), comma-separated indexes; empty for none',
        default: '',
        interpolationType: 'ENV_VAR',
        allowedPattern: GPU_DEVICES_PATTERN,
      },
      executionTimeout: {
        type: 'String',
        description: 'Seconds the command may run (the task lease)',
        default: '3600',
        allowedPattern: '^[0-9]{1,6}$',
      },
    },
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: 'runTemplate',
        inputs: {
          timeoutSeconds: '{{ executionTimeout }}',
          runCommand: documentScript(),
        },
      },
    ],
  };
}

/** The document's script: the checks and the exec described on CommandDocument. */
export function documentScript(): string[] {
  return [
    'set -eu',
    'set -f',
    'case "$SSM_template" in',
    `  '' | *[!a-z0-9-]*) echo "bcs: invalid template name" >&2; exit 2 ;;`,
    'esac',
    `program=${shellQuote(TEMPLATE_DIR)}/"$SSM_template"`,
    '# The GPUs of the task (pattern-checked digits and commas); runuser keeps the environment.',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion (unset-safe under set -u), not a template
    'if [ -n "${SSM_gpuDevices:-}" ]; then export CUDA_VISIBLE_DEVICES="$SSM_gpuDevices"; fi',
    '[ -f "$program" ] && [ -x "$program" ] || { echo "bcs: template $SSM_template is not installed" >&2; exit 2; }',
    '# Unquoted on purpose: the (pattern-checked) arguments become separate words; globbing is off.',
    `exec runuser -u ${TASK_USER} -- "$program" $SSM_arguments`,
  ];
}

/**
 * Boot-script lines that make an instance able to run the templates: the unprivileged task user,
 * and one root-owned executable per template under TEMPLATE_DIR (cdk/lib/constructs/autoscaling.ts
 * adds them to the workers' user data; for instances launched otherwise, docs/aws.md shows them).
 */
export function templateInstallCommands(templates: CommandTemplates): string[] {
  const lines = [
    `id -u ${TASK_USER} >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /sbin/nologin ${TASK_USER}`,
    `install -d -o root -g root -m 0755 ${TEMPLATE_DIR}`,
  ];
  for (const [name, template] of Object.entries(templates).sort(([a], [b]) => a.localeCompare(b))) {
    const file = `${TEMPLATE_DIR}/${name}`;
    lines.push(
      `cat > ${file} <<'BCS_TEMPLATE_EOF'`,
      templateScript(template).trimEnd(),
      'BCS_TEMPLATE_EOF',
      `chown root:root ${file}`,
      `chmod 0755 ${file}`,
    );
  }
  return lines;
}
