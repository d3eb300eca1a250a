/** Exit codes shared by every command: 0 success, 1 a negative answer (invalid chain, unknown id), 2 usage or I/O. */
export const EXIT_OK = 0;
export const EXIT_NEGATIVE = 1;
export const EXIT_USAGE = 2;

/** Thrown by commands to end with a message and a specific exit code. */
export class CliExit extends Error {
  override name = 'CliExit';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
