/**
 * A command-line argument a script cannot use: the script prints the
 * message and its usage, without a stack trace, and exits with 2.
 */
export class UsageError extends Error {
  /** Creates the error with the message the user will read. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
