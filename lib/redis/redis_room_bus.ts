import type {
  BusMember,
  PresenceEvent,
  RoomBus,
  RoomBusHandlers,
} from "../room_bus.ts";
import type { Beat, Heartbeat } from "./heartbeat.ts";
import type { Member, Presence } from "./presence.ts";
import type { RedisConnection } from "./redis_connection.ts";
import {
  type PublishedPresence,
  RoomFeed,
  type RoomHistory,
} from "./room_feed.ts";
import { Roster } from "./roster.ts";

/** Options of {@linkcode RedisRoomBus}. */
export interface RedisRoomBusOptions {
  /** The instance's heartbeat: each beat keeps its members alive. */
  heartbeat: Heartbeat;
  /** Joins, leaves and member lists across instances. */
  presence: Presence;
  /** A connection of the bus's own, for its subscriptions; it closes it. */
  subscriber: RedisConnection;
  /** Where missed messages are read back from: the Redis store. */
  history: RoomHistory;
  /** Messages that a repair read back from a room's stream. */
  onRepair?: ((roomId: string, count: number) => void) | undefined;
  /** Messages that were missed and pruned before they could be read back. */
  onLost?: ((roomId: string, from: number, to: number) => void) | undefined;
}

/** A room that connections of this instance follow. */
interface Followed {
  /** How many: the first subscribes, the last unsubscribes. */
  count: number;
  /** Settles when the subscription is in place; unset after it failed. */
  ready: Promise<void> | undefined;
  /** The room's members on other instances, as the local ones know them. */
  roster: Roster;
}

/**
 * The {@linkcode RoomBus} of server instances that share their rooms
 * through Redis. A room's stored messages and its joins and leaves reach an
 * instance on the room's sharded channel, which it subscribes to while it
 * has members in the room, and only then.
 *
 * - Messages: the store's append script publishes them; the
 *   {@linkcode RoomFeed} delivers each once and in id order, on every
 *   instance this one included, and reads back from the stream whatever
 *   pub/sub lost.
 * - Joins and leaves of this instance's members are told to its own members
 *   at once, as in one process, and to the others through
 *   {@linkcode Presence}, whose scripts change the room's member set and
 *   publish the event in one step.
 * - Every heartbeat keeps this instance's members alive, removes (once,
 *   whoever comes first) the members of instances that stopped beating,
 *   and puts right what Redis has of this instance's members where a join
 *   or leave could not be published (Redis was down, or this instance was
 *   given up for dead and its members removed). After the subscription was
 *   down, it also compares each room's members with what this instance's
 *   members were told, and tells them the difference.
 */
export class RedisRoomBus implements RoomBus {
  #heartbeat: Heartbeat;
  #presence: Presence;
  #subscriber: RedisConnection;
  #feed: RoomFeed;
  #handlers: RoomBusHandlers | undefined;
  #followed = new Map<string, Followed>();
  /** Unsubscriptions running, by room: a new follow waits for them. */
  #unfollowing = new Map<string, Promise<void>>();
  /** This instance's announced members: room -> connection -> name. */
  #local = new Map<string, Map<string, string>>();
  /** Joins and leaves being published. */
  #publishing = new Set<Promise<unknown>>();
  /**
   * Rooms where a join or leave of this instance could not be published:
   * checked at every beat until it is, even once no member is left.
   */
  #unsettled = new Set<string>();
  /** Set when events may have been missed: the next beat compares rosters. */
  #resync = false;
  #maintaining: Promise<void> | undefined;
  #removeBeatListener: () => void;

  /** Creates the bus; it follows no room until asked. */
  constructor(options: RedisRoomBusOptions) {
    this.#heartbeat = options.heartbeat;
    this.#presence = options.presence;
    this.#subscriber = options.subscriber;
    this.#feed = new RoomFeed({
      connection: options.subscriber,
      history: options.history,
      onMessage: (message) => this.#handlers?.message(message),
      onPresence: (event) => this.#heard(event),
      onRepair: options.onRepair,
      onLost: options.onLost,
      onResubscribed: () => {
        this.#resync = true;
        // A beat now rather than in up to two seconds.
        this.#heartbeat.beat().catch(() => {});
      },
    });
    this.#removeBeatListener = this.#heartbeat.onBeat((beat) =>
      this.#beat(beat)
    );
  }

  /** Starts handing events to `handlers`. */
  start(handlers: RoomBusHandlers): void {
    this.#handlers = handlers;
  }

  /**
   * Follows a room: the first local follower subscribes to its channel, and
   * every follower waits until the subscription is in place.
   *
   * @throws {StoreUnavailableError} if Redis is unreachable
   */
  follow(roomId: string): Promise<void> {
    let room = this.#followed.get(roomId);
    if (!room) {
      room = { count: 0, ready: undefined, roster: new Roster() };
      this.#followed.set(roomId, room);
    }
    room.count++;
    return room.ready ??= this.#subscribe(roomId, room);
  }

  /** The last local follower of a room unsubscribes from its channel. */
  unfollow(roomId: string): void {
    const room = this.#followed.get(roomId);
    if (!room || --room.count > 0) return;
    this.#followed.delete(roomId);
    const unfollowing = (room.ready ?? Promise.resolve())
      .catch(() => {})
      .then(() => {
        if (!this.#followed.has(roomId)) return this.#feed.unfollow(roomId);
      })
      .finally(() => {
        if (this.#unfollowing.get(roomId) === unfollowing) {
          this.#unfollowing.delete(roomId);
        }
      });
    this.#unfollowing.set(roomId, unfollowing);
  }

  /**
   * Tells this instance's members at once, and the other instances through
   * Redis; what cannot be published now is published at a later beat.
   */
  announce(event: PresenceEvent, member: BusMember): void {
    this.#handlers?.presence(event);
    const { room_id: roomId } = event;
    let local = this.#local.get(roomId);
    let publishing;
    if (event.type === "join-room") {
      if (!local) this.#local.set(roomId, local = new Map());
      local.set(member.connection, member.from);
      publishing = this.#presence.join(roomId, member.connection, member.from);
    } else {
      local?.delete(member.connection);
      if (local?.size === 0) this.#local.delete(roomId);
      publishing = this.#presence.leave(
        roomId,
        member.connection,
        member.from,
      );
    }
    this.#track(roomId, publishing);
  }

  /** Nothing to do: the append script published it. */
  stored(): void {}

  /**
   * The names of the room's members on every live instance, in the order
   * they joined; this instance's as it knows them now, even while their
   * join or leave is on its way to Redis.
   */
  async memberNames(roomId: string): Promise<string[]> {
    const members = await this.#presence.members(roomId);
    const local = this.#local.get(roomId) ?? new Map<string, string>();
    const names = new Set<string>();
    const listed = new Set<string>();
    for (const { instance, connection, from } of members) {
      if (instance !== this.#presence.instance) names.add(from);
      else if (local.has(connection)) {
        names.add(from);
        listed.add(connection);
      }
    }
    for (const [connection, from] of local) {
      if (!listed.has(connection)) names.add(from);
    }
    return [...names];
  }

  /**
   * Stops: the members still here leave (every instance hears it at once,
   * not after the heartbeat expires), the subscriptions end and the
   * instance leaves the set of live instances.
   */
  async close(): Promise<void> {
    this.#removeBeatListener();
    await Promise.all(this.#publishing);
    await this.#maintaining;
    for (const [roomId, local] of this.#local) {
      for (const [connection, from] of local) {
        this.#track(roomId, this.#presence.leave(roomId, connection, from));
      }
    }
    this.#local.clear();
    await Promise.all(this.#publishing);
    await Promise.all(this.#unfollowing.values());
    await this.#feed.close();
    await this.#heartbeat.stop();
    await this.#subscriber.close();
  }

  /** Subscribes to a room's channel, after an unsubscription running. */
  #subscribe(roomId: string, room: Followed): Promise<void> {
    const ready = (async () => {
      await this.#unfollowing.get(roomId);
      await this.#feed.follow(roomId);
      // Who is in the room already, for the roster; not waited for.
      this.#check(roomId, room, false).catch(() => {});
    })();
    ready.catch(() => {
      // The follower hears of it; a later follower tries again.
      if (room.ready === ready) room.ready = undefined;
    });
    return ready;
  }

  /** A join or leave published on a followed room's channel. */
  #heard(event: PublishedPresence): void {
    // This instance's own members were told when they came and went.
    if (event.instance === this.#presence.instance) return;
    const room = this.#followed.get(event.room_id);
    if (!room?.roster.take(event)) return;
    const { type, room_id, from } = event;
    this.#handlers?.presence({ type, room_id, from });
  }

  #track(roomId: string, publishing: Promise<unknown>): void {
    const tracked = publishing.catch(() => {
      // Redis is down: the next beats put it right.
      this.#unsettled.add(roomId);
    });
    this.#publishing.add(tracked);
    tracked.finally(() => this.#publishing.delete(tracked));
  }

  /** After each beat: one round of upkeep at a time, never rejecting. */
  #beat(beat: Beat): void {
    if (this.#maintaining) return;
    const resync = this.#resync;
    this.#resync = false;
    this.#maintaining = this.#maintain(beat, resync)
      .catch(() => {
        this.#resync ||= resync;
      })
      .finally(() => this.#maintaining = undefined);
  }

  /**
   * Keeps this instance's members alive in the rooms it follows and checks
   * each room: see {@linkcode check}.
   */
  async #maintain(beat: Beat, resync: boolean): Promise<void> {
    const roomIds = new Set([
      ...this.#followed.keys(),
      ...this.#local.keys(),
      ...this.#unsettled,
    ]);
    if (roomIds.size === 0) return;
    await this.#presence.refresh(roomIds, beat.now);
    await Promise.all(
      [...roomIds].map((roomId) =>
        this.#check(roomId, this.#followed.get(roomId), resync)
      ),
    );
  }

  /**
   * Lists a room's members, which removes those of dead instances; then
   * publishes the joins and leaves of this instance's members that Redis
   * lacks, and, for a roster that is new or after missed events, tells this
   * instance's members what they missed.
   */
  async #check(
    roomId: string,
    room: Followed | undefined,
    resync: boolean,
  ): Promise<void> {
    const unsettled = this.#unsettled.delete(roomId);
    let others;
    try {
      others = await this.#settle(roomId);
    } catch (error) {
      if (unsettled) this.#unsettled.add(roomId);
      throw error;
    }
    if (!room || this.#followed.get(roomId) !== room) return;
    if (!resync && room.roster.complete) return;
    for (const event of room.roster.sync(roomId, others)) {
      this.#handlers?.presence(event);
    }
  }

  /**
   * Makes Redis list this instance's members of a room as they are here;
   * returns the members on other instances.
   */
  async #settle(roomId: string): Promise<Member[]> {
    const members = await this.#presence.members(roomId);
    const self = this.#presence.instance;
    const mine = new Map<string, Member>();
    const others = [];
    for (const member of members) {
      if (member.instance === self) mine.set(member.connection, member);
      else others.push(member);
    }
    const local = this.#local.get(roomId) ?? new Map<string, string>();
    for (const [connection, from] of local) {
      if (mine.get(connection)?.from !== from) {
        await this.#presence.join(roomId, connection, from);
      }
    }
    for (const [connection, { from }] of mine) {
      if (local.get(connection) !== from) {
        await this.#presence.leave(roomId, connection, from);
      }
    }
    return others;
  }
}
