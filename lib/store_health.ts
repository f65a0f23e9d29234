import type { Logger } from "./logger.ts";
import { StoreUnavailableError } from "./store/store_unavailable_error.ts";

/**
 * Whether the message store can write, as the last write or readiness check
 * found it. A failing store is logged once when it starts failing and once
 * when it recovers, never once per refused message: a store that is down
 * for a minute under load would otherwise fill the log.
 */
export class StoreHealth {
  readonly #logger: Logger;
  #failing: StoreUnavailableError | undefined;
  #refused = 0;

  /** Creates the health of a store that is assumed to work. */
  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Why the store cannot write, while it cannot; `undefined` otherwise. */
  get failing(): StoreUnavailableError | undefined {
    return this.#failing;
  }

  /**
   * Records a failure of the store. Only a {@linkcode StoreUnavailableError}
   * counts: other errors are bugs, logged where they happen.
   */
  failed(error: unknown): void {
    if (!(error instanceof StoreUnavailableError)) return;
    this.#refused++;
    if (this.#failing) return;
    this.#failing = error;
    this.#logger.error("store.failing", { error, cause: error.cause });
  }

  /** Records that the store wrote (or could write) again. */
  succeeded(): void {
    if (!this.#failing) return;
    this.#logger.info("store.recovered", { refused: this.#refused });
    this.#failing = undefined;
    this.#refused = 0;
  }
}
