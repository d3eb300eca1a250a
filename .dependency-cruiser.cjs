/**
 * The layout's boundaries (README "Layout"), checked by `npm run boundaries` in `npm test`:
 * - lib/ is the core: it imports nothing above it, and no AWS SDK, Hono, better-sqlite3 or aws-lambda
 *   outside lib/adapters/<service>/; the core outside the adapters imports no adapter.
 * - runtime/ (the local server) is imported only by runtime/, bin/ (which mounts `bcs start`) and tests.
 * - functions/ (the Lambda handlers) imports no runtime/, cli/ or web/.
 * - production code imports nothing from tests/.
 */

/** The infrastructure packages only an adapter may import. */
const INFRASTRUCTURE =
  '^node_modules/(@aws-sdk/|@smithy/|@aws-lambda-powertools/|@types/aws-lambda/|aws-lambda/|hono/|@hono/|better-sqlite3/)';

/** Code that ships: everything but the tests, the benchmarks and the scripts. */
const PRODUCTION = '^(lib|functions|runtime|cli|agent|web|cdk|bin)/';

module.exports = {
  forbidden: [
    {
      name: 'lib-is-the-core',
      comment: 'lib/ imports nothing from the folders built on it.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(functions|runtime|cli|agent|web|cdk|bin|bench|scripts|tests)/' },
    },
    {
      name: 'infrastructure-only-in-adapters',
      comment:
        'The AWS SDK, Hono, better-sqlite3 and aws-lambda are imported in lib/ only by lib/adapters/<service>/.',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/adapters/[^/]+/' },
      to: { path: INFRASTRUCTURE },
    },
    {
      name: 'core-imports-no-adapter',
      comment: 'The core depends on ports (lib/ports/), never on an adapter; wiring picks the adapter.',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/adapters/' },
      to: { path: '^lib/adapters/' },
    },
    {
      name: 'runtime-is-a-leaf',
      comment: 'Only runtime/ itself, bin/ (which mounts `bcs start`) and tests import the local server.',
      severity: 'error',
      from: { pathNot: '^(runtime|bin|tests)/' },
      to: { path: '^runtime/' },
    },
    {
      name: 'functions-stand-alone',
      comment: 'The Lambda handlers import no local server, CLI or dashboard code.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^(runtime|cli|web)/' },
    },
    {
      name: 'production-imports-no-tests',
      comment: 'Code that ships imports nothing from tests/.',
      severity: 'error',
      from: { path: PRODUCTION },
      to: { path: '^tests/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(cdk\\.out|dist)/' },
    // Type-only imports count: `import type { APIGatewayProxyEvent } from 'aws-lambda'` is a dependency too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
