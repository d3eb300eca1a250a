import { Command, Option } from 'commander';
import { intOption, numberOption } from '../cli/options';
import { parseVerifierKey } from '../lib/ledger/signed-note';
import { loadConfig } from './config';
import { startLocalRuntime } from './server';

interface StartFlags {
  config?: string;
  host?: string;
  port?: number;
  dataDir?: string;
  token?: string;
  insecureNoAuth?: boolean;
  allowedHost?: string[];
  vms?: number;
  algorithm?: string;
  alpha?: number;
  beta?: number;
  tau?: number;
  blockSize?: number;
  batchSize?: number;
  speed?: number;
  maxWait?: number;
  generatorRate?: number;
  seed?: number;
  synchronous?: 'FULL' | 'NORMAL';
  autoscale?: boolean;
  autoscaleMin?: number;
  autoscaleMax?: number;
  autoscaleTarget?: number;
  scaleOutCooldown?: number;
  scaleInCooldown?: number;
  origin?: string;
  witness?: string[];
}

/** `bcs start`: the local runtime in this process until SIGINT or SIGTERM. */
export function startCommand(): Command {
  return new Command('start')
    .description('run the local scheduler: HTTP API, simulated fleet, SQLite ledger and dashboard')
    .option('-c, --config <file>', 'JSON configuration file (see docs/local.md)')
    .option('--host <host>', 'address to bind (env HOST; default 127.0.0.1)')
    .option('-p, --port <port>', 'port, 0 for any free one (env PORT; default 8080)', intOption)
    .option('--data-dir <dir>', 'directory of ledger.db (env DATA_DIR; default ./data)')
    .option('--token <token>', 'bearer token required by mutating routes (env BCS_TOKEN)')
    .option(
      '--insecure-no-auth',
      'allow a non-loopback --host without a token (anyone who reaches the port can change the scheduler)',
    )
    .option(
      '--allowed-host <name>',
      'a further Host/Origin name accepted on mutating routes, besides the bound address and localhost (repeatable; config "allowed_hosts")',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--vms <n>', 'simulated VMs at start', intOption)
    .option('-a, --algorithm <name>', 'placement algorithm')
    .option('--alpha <x>', 'blockchain: weight of current usage', numberOption)
    .option('--beta <x>', 'blockchain: weight of historical usage', numberOption)
    .option('--tau <x>', 'blockchain: urgency time constant', numberOption)
    .option('--block-size <n>', 'transactions per block', intOption)
    .option('--batch-size <n>', 'tasks per scheduling batch', intOption)
    .option('--speed <x>', 'simulation speed-up of task durations', numberOption)
    .option(
      '--max-wait <s>',
      'seconds a task that fits the fleet waits for free room before rejection (900)',
      numberOption,
    )
    .option('--generator-rate <tasks/s>', 'start the built-in task generator at this rate', numberOption)
    .option(
      '--origin <origin>',
      'checkpoint origin line (default bcs-ledger/<key fingerprint>; docs/ledger-format.md section 12)',
    )
    .option(
      '--witness <url=vkey>',
      'submit checkpoints to this tlog-witness (repeatable): its URL, "=", its verifier key',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--seed <n>', 'seed for the simulation and randomised algorithms', intOption)
    .addOption(new Option('--synchronous <mode>', 'SQLite durability').choices(['FULL', 'NORMAL']))
    .option('--autoscale', 'grow and shrink the simulated fleet on backlog per VM (docs/local.md)')
    .option('--autoscale-min <n>', 'autoscaling: fewest active VMs (1)', intOption)
    .option('--autoscale-max <n>', 'autoscaling: most VMs (64)', intOption)
    .option('--autoscale-target <tasks>', 'autoscaling: target tasks waiting per VM (10)', numberOption)
    .option('--scale-out-cooldown <s>', 'autoscaling: s between scale-outs (5)', numberOption)
    .option('--scale-in-cooldown <s>', 'autoscaling: s between scale-ins (10)', numberOption)
    .action(async (flags: StartFlags, command: Command) => {
      const config = await loadConfig({
        ...(flags.config === undefined ? {} : { file: flags.config }),
        env: process.env,
        overrides: {
          host: flags.host,
          port: flags.port,
          data_dir: flags.dataDir,
          token: flags.token,
          allowed_hosts: flags.allowedHost,
          algorithm: flags.algorithm,
          block_size: flags.blockSize,
          batch_size: flags.batchSize,
          max_wait_s: flags.maxWait,
          seed: flags.seed,
          synchronous: flags.synchronous,
          checkpoint_origin: flags.origin,
          witnesses: flags.witness?.map(witnessFlag),
          params: { alpha: flags.alpha, beta: flags.beta, tau: flags.tau },
          fleet: { size: flags.vms, speed: flags.speed },
          autoscale: {
            enabled: flags.autoscale,
            min: flags.autoscaleMin,
            max: flags.autoscaleMax,
            target_backlog_per_vm: flags.autoscaleTarget,
            scale_out_cooldown_s: flags.scaleOutCooldown,
            scale_in_cooldown_s: flags.scaleInCooldown,
          },
          generator:
            flags.generatorRate === undefined ? undefined : { running: true, rate: flags.generatorRate },
        },
      });
      const started = await startLocalRuntime(config, undefined, {
        insecureNoAuth: flags.insecureNoAuth === true,
      });
      // Tests and scripts read this line to find the port when PORT=0.
      console.log(`bcs listening on ${started.url}`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          console.error(`${signal}: stopping`);
          started.close().then(resolve, (error) => {
            console.error(error);
            command.error('shutdown failed', { exitCode: 1 });
          });
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}

/**
 * `--witness URL=VKEY`: both the URL (a query string) and the vkey (base64 padding) may hold "=", so
 * the split is at the last "=" after which a well-formed vkey follows (name+hex id+base64); with none,
 * at the first "=", so that the key's error names what is wrong with it.
 */
export function witnessFlag(value: string): { url: string; key: string } {
  // From the right: a key name may itself hold "=", so the shortest key that parses is the vkey.
  for (let at = value.lastIndexOf('='); at > 0; at = value.lastIndexOf('=', at - 1)) {
    const key = value.slice(at + 1);
    try {
      parseVerifierKey(key);
      return { url: value.slice(0, at), key };
    } catch {
      // not a vkey from here: try the next "="
    }
  }
  const at = value.indexOf('=');
  if (at <= 0) return { url: value, key: '' };
  return { url: value.slice(0, at), key: value.slice(at + 1) };
}
