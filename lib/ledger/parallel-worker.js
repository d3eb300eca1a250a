// Worker threads do not inherit the main thread's tsx hooks: register them here, then load the
// TypeScript entry (the same pattern as bin/bcs.js and runtime/scheduler-thread/worker.js).
import { register } from 'tsx/esm/api';

register();
await import('./parallel-worker.ts');
