import type { Outbox } from "../outbox.ts";
import type { RoomFanout } from "../room_fanout.ts";
import { BunPeer } from "./bun_peer.ts";

/**
 * How long after a publish the backlogs of the sockets it reached are
 * looked at. Each look is a call into Bun per member: in a room of 1000
 * members under load, looking every 10 ms cost 6% of the server's time,
 * every 50 ms about half that. A reader that stopped is found at most this
 * much later than with one send per member, against a grace period of
 * seconds.
 */
const BACKLOG_CHECK_MS = 50;

/**
 * Bun's native publish/subscribe as the chat's fan-out: a room is a topic,
 * the socket of each live member subscribes to it, and a frame for the
 * room is one `server.publish()` call, which hands it to every subscriber
 * in native code. Bun keeps each socket's frames in the order they were
 * sent or published, and a socket that subscribes gets none published
 * before (the switch of a joiner to live delivery relies on both).
 *
 * Bun does not say which subscriber could not take a published frame, so
 * the sockets that a publish reached have their backlogs looked at a
 * little later ({@linkcode BACKLOG_CHECK_MS}), once per room however many
 * frames it published meanwhile: a backlog over the limit is then watched
 * by its outbox, as after a send (`lib/outbox.ts`).
 */
export class BunFanout implements RoomFanout {
  readonly #publish: (topic: string, text: string) => unknown;
  /** The live members of the rooms published to since the last check. */
  readonly #reached = new Set<ReadonlySet<Outbox>>();
  #check: ReturnType<typeof setTimeout> | undefined;

  /**
   * Creates the fan-out of a server.
   *
   * @param publish the server's `publish()`
   */
  constructor(publish: (topic: string, text: string) => unknown) {
    this.#publish = publish;
  }

  /** Subscribes the member's socket to the room's topic. */
  subscribe(roomId: string, outbox: Outbox): void {
    socketOf(outbox).subscribe(roomId);
  }

  /** Unsubscribes the member's socket from the room's topic. */
  unsubscribe(roomId: string, outbox: Outbox): void {
    socketOf(outbox).unsubscribe(roomId);
  }

  /** Publishes the frame to the room's topic. */
  publish(roomId: string, text: string, live: ReadonlySet<Outbox>): void {
    this.#publish(roomId, text);
    this.#reached.add(live);
    this.#check ??= setTimeout(() => this.#checkBacklogs(), BACKLOG_CHECK_MS);
  }

  /** Stops the checks, as the server stops. */
  stop(): void {
    clearTimeout(this.#check);
    this.#check = undefined;
    this.#reached.clear();
  }

  #checkBacklogs(): void {
    this.#check = undefined;
    for (const live of this.#reached) {
      for (const outbox of live) outbox.checkBacklog();
    }
    this.#reached.clear();
  }
}

function socketOf(outbox: Outbox) {
  const { peer } = outbox;
  if (!(peer instanceof BunPeer)) {
    throw new TypeError("BunFanout reaches only the Bun adapter's sockets");
  }
  return peer.socket;
}
