import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { groupListeners, isLoopback, procAddress } from '../helpers/listeners';

// What every other aws test relies on from the globalSetup (emulator.ts), checked once.
describe('emulator harness', () => {
  it('exports one endpoint to test workers through process.env and inject', () => {
    const endpoint = inject('awsEndpoint');
    expect(endpoint).toMatch(/^https?:\/\/[^/]+$/);
    expect(process.env.LOCALSTACK_ENDPOINT).toBe(endpoint);
    expect(process.env.AWS_ENDPOINT_URL).toBe(endpoint);
    expect(process.env.AWS_REGION).toBe('us-east-1');
    expect(process.env.AWS_ACCESS_KEY_ID).toBe('test');
    expect(process.env.AWS_SESSION_TOKEN).toBeUndefined();
  });

  // An endpoint given through LOCALSTACK_ENDPOINT is the user's business; one we started must not be
  // reachable from the network, since it accepts any credentials.
  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  it.skipIf(process.env.BCS_EMULATOR_STARTED !== '1' || !external)(
    'refuses connections to a MiniStack it started on any address but loopback',
    async () => {
      const port = Number(new URL(inject('awsEndpoint')).port);
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect({ host: external!, port }, () => {
          socket.destroy();
          resolve('connected');
        });
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      expect(outcome).toBe('ECONNREFUSED');
    },
  );

  // The address test above probes one port; MiniStack also opens listeners of its own (1.5.33: IoT
  // mTLS on 0.0.0.0:8883 whenever `cryptography` is installed), so check every listening socket the
  // emulator's process group holds, once its optional listeners had the time to come up.
  it.skipIf(process.env.BCS_EMULATOR_STARTED !== '1' || process.platform !== 'linux')(
    'has no listening socket beyond loopback in the process group of a MiniStack it started',
    async () => {
      const endpoint = inject('awsEndpoint');
      const port = Number(new URL(endpoint).port);
      const pid = Number(readFileSync(new URL(`../../../.emulator/${port}/pid`, import.meta.url), 'utf8'));
      const deadline = Date.now() + 60_000;
      for (;;) {
        const health = (await (await fetch(`${endpoint}/_localstack/health`)).json()) as {
          iot_mtls?: string;
        };
        if (health.iot_mtls !== 'starting' || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const listeners = groupListeners(pid);
      expect(listeners.map((l) => l.port)).toContain(port);
      expect(listeners.filter((l) => !isLoopback(l.address))).toEqual([]);
    },
  );

  it('reads /proc/net/tcp addresses', () => {
    expect(procAddress('0100007F')).toBe('127.0.0.1');
    expect(procAddress('00000000')).toBe('0.0.0.0');
    expect(procAddress('00000000000000000000000001000000')).toBe('::1');
    expect(procAddress('00000000000000000000000000000000')).toBe('::');
    expect(procAddress('0000000000000000FFFF00000100007F')).toBe('::ffff:127.0.0.1');
    expect(isLoopback(procAddress('00000000'))).toBe(false);
  });

  it('answers the LocalStack health check and an SDK client configured from the environment alone', async () => {
    const health = await fetch(`${inject('awsEndpoint')}/_localstack/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ services: { dynamodb: expect.any(String) } });

    // No endpoint or credentials passed: the SDK takes AWS_ENDPOINT_URL and the dummy keys, as the
    // CDK CLI and the deployed functions do.
    const client = new DynamoDBClient({});
    try {
      expect((await client.send(new ListTablesCommand({}))).TableNames).toBeInstanceOf(Array);
    } finally {
      client.destroy();
    }
  });
});
