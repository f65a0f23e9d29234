import type { Peer } from "./peer.ts";

/** Options of {@linkcode Outbox}. */
export interface OutboxOptions {
  /**
   * Unsent bytes a reader may have waiting for longer than `graceMs`.
   * @default {1048576}
   */
  maxBufferedBytes?: number | undefined;
  /**
   * How long the backlog may stay over `maxBufferedBytes` before the reader
   * counts as slow.
   * @default {SLOW_READER_GRACE_MS}
   */
  graceMs?: number | undefined;
  /** Called once, when the reader is found slow; the caller closes it. */
  onSlow(): void;
}

/** How long a backlog may stay over the limit, by default. */
export const SLOW_READER_GRACE_MS = 3000;

/**
 * A backlog this many times the limit, once the socket had a moment to
 * drain, counts as slow without waiting for the grace period: it bounds the
 * memory one reader can hold.
 */
export const HARD_LIMIT_FACTOR = 4;

/** How often a backlog over half the limit is looked at again. */
const POLL_MS = 10;

/**
 * The way out of one connection, with the slow-reader rule that every
 * runtime shares: a reader is slow when its backlog (the bytes sent to it
 * and not yet handed to the network) stays over the limit for the grace
 * period, or is over {@linkcode HARD_LIMIT_FACTOR} times the limit (or the
 * runtime dropped a frame: it would not hold so much).
 *
 * A backlog over the limit is judged again after the socket had time to
 * drain, never right after the send that made it: on Deno every frame sent
 * in one turn of the event loop counts until the turn is over, however fast
 * the client reads. Senders with much to send (a history) send until the
 * backlog is over the limit, then wait for {@linkcode Outbox.drained}.
 */
export class Outbox {
  readonly #peer: Peer;
  readonly #limit: number;
  readonly #graceMs: number;
  readonly #onSlow: () => void;
  /** When the backlog was last seen go over the limit, while it still is. */
  #overSince: number | undefined;
  /** Set while the backlog is over half the limit: it is looked at again. */
  #poll: ReturnType<typeof setTimeout> | undefined;
  #waiters: ((drained: boolean) => void)[] = [];
  #closed = false;

  /** Creates the outbox of a connection to `peer`. */
  constructor(peer: Peer, options: OutboxOptions) {
    this.#peer = peer;
    this.#limit = options.maxBufferedBytes ?? 1024 * 1024;
    this.#graceMs = options.graceMs ?? SLOW_READER_GRACE_MS;
    this.#onSlow = options.onSlow;
  }

  /** Sends one frame, unless the outbox is closed. */
  send(text: string): void {
    if (this.#closed) return;
    if (!this.#peer.send(text)) this.#slow();
    else if (
      this.#poll === undefined && this.#peer.bufferedAmount() > this.#limit
    ) {
      this.#poll = this.#schedule();
    }
  }

  /**
   * Whether the backlog is over the limit, so that a long send (a history)
   * should wait for {@linkcode drained} before it goes on. (Waiting, it
   * stays over the limit unless the reader reads: a reader that does not is
   * found slow after the grace period.)
   */
  get backlogged(): boolean {
    return this.#peer.bufferedAmount() > this.#limit;
  }

  /**
   * Resolves `true` once the backlog is under half the limit, or `false`
   * if the outbox closes first (the reader was found slow, or it left).
   */
  drained(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (this.#peer.bufferedAmount() <= this.#limit / 2) {
      return Promise.resolve(true);
    }
    this.#poll ??= this.#schedule();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Stops sending; pending {@linkcode drained} calls resolve `false`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#poll);
    this.#poll = undefined;
    this.#settle(false);
  }

  #schedule(): ReturnType<typeof setTimeout> {
    return setTimeout(() => this.#check(), POLL_MS);
  }

  #check(): void {
    this.#poll = undefined;
    const backlog = this.#peer.bufferedAmount();
    const now = performance.now();
    if (backlog <= this.#limit) this.#overSince = undefined;
    else if (
      backlog > this.#limit * HARD_LIMIT_FACTOR ||
      now - (this.#overSince ??= now) >= this.#graceMs
    ) {
      this.#slow();
      return;
    }
    if (backlog <= this.#limit / 2) this.#settle(true);
    else this.#poll = this.#schedule();
  }

  #settle(drained: boolean): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve(drained);
  }

  #slow(): void {
    this.close();
    this.#onSlow();
  }
}
