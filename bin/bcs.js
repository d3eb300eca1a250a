#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so there is no build step between a checkout and `npm start`.
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every run under Node < 22 that its releases after January 2027 will need 22.
// The pinned SDK runs on Node 20.19+ (package.json engines), so the warning is about a future bump,
// not this install: silenced unless the user set the variable (README "Node versions").
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../cli/main.ts');
const { startCommand } = await import('../runtime/start-command.ts');
process.exitCode = await main(process.argv, [startCommand()]);
