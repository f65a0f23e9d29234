import { unixSeconds } from "./clock.ts";
import type { MessageStore } from "./store/store.ts";

/** Options of {@linkcode Retention}. */
export interface RetentionOptions {
  /**
   * Most messages a room keeps; `Infinity` keeps them all.
   * @default {10000}
   */
  maxPerRoom?: number | undefined;
  /**
   * Longest a message is kept, in seconds; `Infinity` keeps it forever.
   * @default {Infinity}
   */
  maxAgeSeconds?: number | undefined;
  /**
   * Time between two pruning passes, in milliseconds.
   * @default {5000}
   */
  intervalMs?: number | undefined;
  /**
   * Most messages one step removes. A pass takes as many steps as it needs,
   * with a turn of the event loop between them for deliveries.
   * @default {1000}
   */
  stepSize?: number | undefined;
  /**
   * The clock that messages' ages are measured with, in unix seconds.
   * @default {unixSeconds}
   */
  now?: (() => number) | undefined;
  /**
   * Called when a pass fails; the next pass runs as planned.
   * @default {console.error}
   */
  onError?: ((error: unknown) => void) | undefined;
}

/**
 * Keeps a store within its limits: it prunes each room down to
 * `maxPerRoom` messages and drops messages older than `maxAgeSeconds`, in
 * the background, in short steps that never hold up a delivery for long.
 */
export class Retention {
  #store: MessageStore;
  #maxPerRoom: number;
  #maxAgeSeconds: number;
  #intervalMs: number;
  #stepSize: number;
  #now: () => number;
  #onError: (error: unknown) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The last pass asked for; passes run one after another. Never rejects. */
  #lastPass: Promise<unknown> = Promise.resolve();
  #stopped = false;

  /** Creates the retention of a store; nothing runs before `start()`. */
  constructor(store: MessageStore, options: RetentionOptions = {}) {
    this.#store = store;
    this.#maxPerRoom = options.maxPerRoom ?? 10000;
    this.#maxAgeSeconds = options.maxAgeSeconds ?? Infinity;
    this.#intervalMs = options.intervalMs ?? 5000;
    this.#stepSize = options.stepSize ?? 1000;
    this.#now = options.now ?? unixSeconds;
    this.#onError = options.onError ?? console.error;
  }

  /** Whether any limit is set, so that pruning has something to do. */
  get enabled(): boolean {
    return this.#maxPerRoom !== Infinity || this.#maxAgeSeconds !== Infinity;
  }

  /** Prunes at once, then every `intervalMs`, until `stop()`. */
  start(): void {
    if (this.enabled && !this.#stopped) this.#schedule(0);
  }

  /**
   * Runs one pass, after the one running if any: steps until every room is
   * within the limits as they are now.
   *
   * @returns how many messages the pass removed
   */
  prune(): Promise<number> {
    const pass = this.#lastPass.then(() => this.#runPass());
    this.#lastPass = pass.catch(() => {});
    return pass;
  }

  /** Stops pruning; resolves once the pass that was running has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#lastPass;
  }

  async #runPass(): Promise<number> {
    if (this.#stopped) return 0;
    const options = {
      maxPerRoom: this.#maxPerRoom === Infinity ? undefined : this.#maxPerRoom,
      sentBefore: this.#maxAgeSeconds === Infinity
        ? undefined
        : this.#now() - this.#maxAgeSeconds,
      limit: this.#stepSize,
    };
    let total = 0;
    for (;;) {
      const removed = await this.#store.prune(options);
      total += removed;
      if (removed < this.#stepSize || this.#stopped) return total;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(async () => {
      try {
        await this.prune();
      } catch (error) {
        this.#onError(error);
      }
      if (!this.#stopped) this.#schedule(this.#intervalMs);
    }, delayMs);
  }
}
