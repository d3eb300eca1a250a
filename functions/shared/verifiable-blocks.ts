// Moved to lib/engine so the local runtime and the CLI verify SQLite with the same bisection.
export { verifiableBlocks } from '../../lib/engine/verifiable-blocks';
