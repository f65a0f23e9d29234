/**
 * A message store that cannot be opened: a corrupt or unwritable database
 * file, say. The message names the file, so a start-up script can print it
 * as it is, without a stack trace.
 */
export class StoreOpenError extends Error {
  /** The file the store could not open. */
  readonly path: string;

  /** Creates the error for `path`, saying why it cannot be opened. */
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`Cannot open the message database "${path}": ${reason}`, options);
    this.name = "StoreOpenError";
    this.path = path;
  }
}
