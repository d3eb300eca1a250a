import { randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { LocalKeySigner } from '../lib/adapters/local-key';
import { DIGEST_KEY_FILE, SIGNED_DIGESTS_FILE } from '../lib/adapters/local-key/files';
import { SqliteLedgerStore, SqliteTaskAcceptances, SqliteTaskQueue } from '../lib/adapters/sqlite';
import { SchedulingEngine } from '../lib/engine/engine';
import { ValidationError } from '../lib/errors';
import { systemClock } from '../lib/ports/clock';
import { algorithmNames } from '../lib/scheduling/registry';
import { DEFAULT_PARAMS } from '../lib/scheduling/types';
import { DEFAULT_CAPACITY, type RuntimeConfig } from '../lib/schemas/config';
import { seededRandom } from '../lib/simulation/rng';
import { loadDashboard } from './dashboard';
import { DataDirLock } from './data-dir-lock';
import { DigestSigning } from './digest-signing';
import { SimulatedFleet } from './fleet/simulated-fleet';
import { createApp } from './http/app';
import { isLoopbackHost } from './loopback';
import { LocalRuntime, type SchedulerHooks } from './runtime';
import { SchedulerThread } from './scheduler-thread/host';
import { openTlogPublishing } from './tlog-publishing';

export interface StartedRuntime {
  url: string;
  port: number;
  runtime: LocalRuntime;
  /** Stops accepting requests, lets the batch in flight commit, closes the database. */
  close(): Promise<void>;
}

export const LEDGER_FILE = 'ledger.db';

/**
 * The mutating routes are open unless a token is set; that is fine on loopback, not on an address
 * the network reaches. Checked before anything is written, like the rest of the configuration.
 */
async function refuseOpenUnauthenticated(
  config: RuntimeConfig,
  options: StartOptions,
  log: (message: string) => void,
): Promise<void> {
  if (config.token !== undefined || (await isLoopbackHost(config.host))) return;
  if (options.insecureNoAuth) {
    log(
      `WARNING: listening on ${config.host} without a token; anyone who reaches it can change the scheduler`,
    );
    return;
  }
  throw new ValidationError(
    [
      {
        field: 'host',
        message:
          `"${config.host}" is not a loopback address and no token is set: set --token (env BCS_TOKEN, ` +
          'config "token"), bind 127.0.0.1, or pass --insecure-no-auth to accept unauthenticated writes',
      },
    ],
    'invalid configuration',
  );
}
const SHUTDOWN_GRACE_MS = 5000;

/** Starts the whole local runtime in this process and resolves once it listens. */
export interface StartOptions {
  /**
   * Listen on a non-loopback address without a token: anyone who can reach the port may then submit
   * tasks, drain VMs and change the algorithm (`bcs start --insecure-no-auth`).
   */
  insecureNoAuth?: boolean;
}

export async function startLocalRuntime(
  config: RuntimeConfig,
  log: (message: string) => void = (m) => console.error(m),
  options: StartOptions = {},
): Promise<StartedRuntime> {
  await refuseOpenUnauthenticated(config, options, log);
  const algorithms = algorithmNames();
  if (!algorithms.includes(config.algorithm as (typeof algorithms)[number])) {
    throw new ValidationError(
      [
        {
          field: 'algorithm',
          message: `unknown algorithm "${config.algorithm}"; expected one of: ${algorithms.join(', ')}`,
        },
      ],
      'invalid configuration',
    );
  }
  await mkdir(config.data_dir, { recursive: true });
  // One bcs start per data directory: a second one refuses here, naming the holder's pid.
  const lock = DataDirLock.acquire(config.data_dir);
  let signer: LocalKeySigner;
  let store: SqliteLedgerStore;
  try {
    // Opened before the store so that a key file with loose permissions stops the start cleanly.
    signer = await LocalKeySigner.open(join(config.data_dir, DIGEST_KEY_FILE));
    if (signer.created) log(`created the digest signing key ${signer.path} (mode 0600)`);
    store = new SqliteLedgerStore(join(config.data_dir, LEDGER_FILE), {
      synchronous: config.synchronous,
    });
  } catch (error) {
    lock.release();
    throw error;
  }
  let started: LocalRuntime | null = null;
  try {
    const queue = new SqliteTaskQueue(store.db);
    const seed = config.seed ?? randomInt(2 ** 31 - 1);
    const capacity: Record<string, number> = {};
    for (const d of config.dimensions) capacity[d] = config.fleet.capacity?.[d] ?? DEFAULT_CAPACITY[d] ?? 0;
    const fleet = new SimulatedFleet({
      dimensions: config.dimensions,
      defaultCapacity: capacity,
      zones: config.fleet.zones,
      speed: config.fleet.speed,
      noise: config.fleet.noise,
      historyWindow: config.params.historyWindow ?? DEFAULT_PARAMS.historyWindow,
      random: seededRandom(seed),
      ...(config.fleet.gpu_model === undefined ? {} : { gpuModel: config.fleet.gpu_model }),
    });
    const engine = new SchedulingEngine({
      store,
      fleet,
      clock: systemClock,
      algorithm: config.algorithm,
      params: config.params,
      seed,
      dimensions: config.dimensions,
      blockSize: config.block_size,
      leaseGraceSeconds: config.lease_grace_s,
      maxWaitSeconds: config.max_wait_s,
    });
    const scheduler = config.scheduler_thread
      ? (hooks: SchedulerHooks) =>
          new SchedulerThread({
            settings: {
              dbPath: join(config.data_dir, LEDGER_FILE),
              synchronous: config.synchronous,
              dimensions: [...config.dimensions],
              algorithm: config.algorithm,
              params: config.params,
              seed,
              blockSize: config.block_size,
              batchSize: config.batch_size,
              leaseGraceSeconds: config.lease_grace_s,
              maxWaitSeconds: config.max_wait_s,
            },
            fleet,
            ...hooks,
          })
      : undefined;
    const runtime: LocalRuntime = new LocalRuntime({
      ...(scheduler ? { scheduler } : {}),
      config,
      store,
      queue,
      acceptances: new SqliteTaskAcceptances(store.db),
      engine,
      fleet,
      clock: systemClock,
      random: seededRandom(seed + 1),
      algorithms,
      log,
      tlog: await openTlogPublishing({
        config,
        signer,
        store,
        digest: () => runtime.ledger.digest(),
        log,
      }),
      digestSigning: new DigestSigning({
        signer,
        digest: () => runtime.ledger.digest(),
        clock: systemClock,
        logFile: join(config.data_dir, SIGNED_DIGESTS_FILE),
      }),
    });
    const assets = await loadDashboard(log);
    await runtime.start();
    started = runtime;
    const app = createApp(runtime, { assets, algorithms, log });
    const { server, port } = await listen(app.fetch, config.host, config.port);
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return {
      url: `http://${host}:${port}`,
      port,
      runtime,
      close: async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Live event streams never end on their own; requests in flight get a grace period.
        runtime.hub.close();
        runtime.assignments.close();
        // Keep-alive connections turn idle as their last response ends; close them as they do.
        const idle = setInterval(() => {
          if ('closeIdleConnections' in server) server.closeIdleConnections();
        }, 50);
        const force = setTimeout(() => {
          if ('closeAllConnections' in server) server.closeAllConnections();
        }, SHUTDOWN_GRACE_MS);
        await closed;
        clearInterval(idle);
        clearTimeout(force);
        try {
          await runtime.stop();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    // runtime.stop() closes the store too, after its loops have ended.
    try {
      await (started ? started.stop() : store.close());
    } finally {
      lock.release();
    }
    throw error;
  }
}

function listen(
  fetch: Parameters<typeof serve>[0]['fetch'],
  hostname: string,
  port: number,
): Promise<{ server: ReturnType<typeof serve>; port: number }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname, port }, (info: AddressInfo) =>
      resolve({ server, port: info.port }),
    );
    server.once('error', reject);
  });
}
