import { SchedulerError } from '../errors';

/** A value that has no RFC 8785 canonical form (undefined, NaN, Infinity, a lone surrogate, a function...). */
export class CanonicalizationError extends SchedulerError {
  override name = 'CanonicalizationError';
  constructor(
    /** Dotted path of the offending value, "" for the value itself. */
    readonly path: string,
    readonly reason: string,
  ) {
    super(`cannot canonicalize ${path === '' ? 'value' : `"${path}"`}: ${reason}`);
  }
}

/** A Merkle proof request whose arguments break the precondition stated on the function. */
export class MerkleRangeError extends SchedulerError {
  override name = 'MerkleRangeError';
}
