import { defineConfig } from 'vitest/config';

/**
 * Projects:
 * - unit: pure core tests and the contract suites on the in-process stores (fast, no I/O beyond tmp files)
 * - local: the local runtime's HTTP API, CLI and durability tests (spawn processes on loopback)
 * - browser: the dashboard in Debian's chromium through playwright-core
 * - aws: integration and end-to-end tests on a LocalStack-compatible emulator (MiniStack by default)
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts', 'tests/contract/**/*.test.ts'],
          // Property and contract suites run hundreds of cases in one test; vitest's default 5 s is
          // too tight on a loaded 2-CPU machine (seen at load 28). A hang still fails, after 30 s.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'local',
          include: ['tests/local/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'aws',
          include: ['tests/aws/**/*.test.ts'],
          globalSetup: ['tests/aws/setup/emulator.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
