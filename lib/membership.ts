import type { RoomMember } from "./rooms.ts";

/** A frame that reached a joiner while its history was still being sent. */
interface HeldFrame {
  text: string;
  messageId: number | undefined;
}

/**
 * One connection's place in one room: the name it joined under, and the
 * filter that gives it each message of the room once, in order.
 *
 * A joiner is a member from its first moment, so that no message sent
 * while its history loads can slip past it: until {@linkcode release} the
 * room's frames are held, to be sent after the history without the
 * messages the history already held. From then on, a message whose id it has seen
 * (the history of a store that makes a message readable before it is
 * delivered, say) is dropped.
 */
export class Membership implements RoomMember {
  /** The name this connection joined the room under. */
  readonly name: string;
  /** Whether the room was told of the join (and so must hear the leave). */
  announced = false;
  readonly #send: (text: string) => void;
  #held: HeldFrame[] | undefined = [];
  /** The newest message id this member has been sent. */
  #lastMessageId = 0;

  /**
   * Creates the membership of a joiner, holding the room's frames.
   *
   * @param send sends a frame to the member's connection
   */
  constructor(name: string, send: (text: string) => void) {
    this.name = name;
    this.#send = send;
  }

  /** The name in the room's member list, once the room was told. */
  get listedName(): string | undefined {
    return this.announced ? this.name : undefined;
  }

  /** Takes a frame of the room: sent now, held, or dropped as seen. */
  deliver(text: string, messageId?: number): void {
    if (this.#held) this.#held.push({ text, messageId });
    else if (this.#isNew(messageId)) this.#send(text);
  }

  /**
   * Ends the hold, once the history was sent: from now on frames are sent
   * as they come.
   *
   * @param historyEnd the id of the last message of the history
   * @param since the client's `since`: a held message up to it was seen
   *   (a later one may have a smaller id, if a store in memory restarted)
   * @returns the held frames still to send, in order: those the history
   *   (or the client) did not have
   */
  release(historyEnd: number, since = 0): string[] {
    const held = this.#held ?? [];
    this.#held = undefined;
    this.#lastMessageId = Math.max(this.#lastMessageId, historyEnd);
    return held.filter(({ messageId }) =>
      (messageId === undefined || messageId > since) && this.#isNew(messageId)
    ).map(({ text }) => text);
  }

  /** Whether a message is one this member has not been sent; notes it. */
  #isNew(messageId: number | undefined): boolean {
    if (messageId === undefined) return true;
    if (messageId <= this.#lastMessageId) return false;
    this.#lastMessageId = messageId;
    return true;
  }
}
