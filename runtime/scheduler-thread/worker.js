// Worker threads do not inherit the main thread's tsx hooks: register them here, then load the
// TypeScript entry (the same pattern as bin/bcs.js).
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
