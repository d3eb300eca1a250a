import { ValidationError } from '../errors';

/**
 * A caller asked for an algorithm the registry does not hold. It is a ValidationError on the field
 * `algorithm`, so HTTP and CLI callers report it like any other bad input.
 */
export class UnknownAlgorithmError extends ValidationError {
  override name = 'UnknownAlgorithmError';
  constructor(
    readonly algorithm: string,
    readonly validNames: readonly string[],
  ) {
    super(
      [
        {
          field: 'algorithm',
          message: `unknown algorithm "${algorithm}"; expected one of: ${validNames.join(', ')}`,
        },
      ],
      'unknown algorithm',
    );
  }
}
