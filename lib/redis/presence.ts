import type { BusMember } from "../room_bus.ts";
import joinSource from "./presence_join.lua" with { type: "text" };
import leaveSource from "./presence_leave.lua" with { type: "text" };
import membersSource from "./presence_members.lua" with { type: "text" };
import { LuaScript } from "./lua_script.ts";
import type { RedisConnection } from "./redis_connection.ts";
import { roomKeys } from "./room_keys.ts";

const JOIN = new LuaScript(joinSource);
const LEAVE = new LuaScript(leaveSource);
const MEMBERS = new LuaScript(membersSource);

/** One member of a room: a connection on some instance, under a name. */
export interface Member extends BusMember {
  /** The instance the connection is on. */
  instance: string;
}

/** Options of {@linkcode Presence}. */
export interface PresenceOptions {
  /** This instance's id, as its heartbeat has it. */
  instance: string;
  /** How long a heartbeat lasts (ms): the instance's members expire then. */
  ttlMs: number;
  /** Called with the number of joins and leaves each call published. */
  onPublish?: ((count: number) => void) | undefined;
}

/**
 * Who is in which room, across the instances: a sorted set of members per
 * room, and per room the expiry of each instance that has members in it.
 * Joins and leaves are announced on the room's sharded channel, where the
 * instances' feeds pick them up.
 *
 * An instance that dies stops refreshing its expiry. Whoever lists the
 * room next removes its members and announces each leave; the script does
 * it atomically, so the leaves are announced once, however many instances
 * look at the same moment.
 */
export class Presence {
  #redis: RedisConnection;
  #instance: string;
  #ttlMs: number;
  #onPublish: (count: number) => void;

  /** Creates the presence of one instance. */
  constructor(connection: RedisConnection, options: PresenceOptions) {
    this.#redis = connection;
    this.#instance = options.instance;
    this.#ttlMs = options.ttlMs;
    this.#onPublish = options.onPublish ?? (() => {});
  }

  /** This instance's id. */
  get instance(): string {
    return this.#instance;
  }

  /**
   * Adds a connection of this instance to a room and announces it.
   *
   * @returns whether it was added (false: it was in the room already)
   */
  async join(
    roomId: string,
    connection: string,
    from: string,
  ): Promise<boolean> {
    const keys = roomKeys(roomId);
    const added = await this.#redis.run(
      "join",
      (client) =>
        JOIN.run(client, [keys.members, keys.instances], [
          keys.channel,
          roomId,
          this.#instance,
          connection,
          from,
          String(this.#ttlMs),
        ]),
    );
    if (added !== 1) return false;
    this.#onPublish(1);
    return true;
  }

  /**
   * Removes a connection of this instance from a room and announces it.
   *
   * @returns whether it was removed (false: it was not in the room)
   */
  async leave(
    roomId: string,
    connection: string,
    from: string,
  ): Promise<boolean> {
    const keys = roomKeys(roomId);
    const removed = await this.#redis.run(
      "leave",
      (client) =>
        LEAVE.run(client, [keys.members], [
          keys.channel,
          roomId,
          this.#instance,
          connection,
          from,
        ]),
    );
    if (removed !== 1) return false;
    this.#onPublish(1);
    return true;
  }

  /**
   * The room's members on live instances, in the order they joined. The
   * members of expired instances are removed and their leaves announced.
   */
  async members(roomId: string): Promise<Member[]> {
    const keys = roomKeys(roomId);
    const [removed, entries] = await this.#redis.run(
      "members",
      (client) =>
        MEMBERS.run(client, [keys.members, keys.instances], [
          keys.channel,
          roomId,
        ]) as Promise<[number, string[]]>,
    );
    if (removed > 0) this.#onPublish(removed);
    return entries.map((entry) => {
      const [instance, connection, from] = JSON.parse(entry);
      return { instance, connection, from };
    });
  }

  /**
   * Keeps this instance's members alive in these rooms until `now + ttlMs`
   * (`now` by Redis's clock, as the heartbeat returns it).
   */
  async refresh(roomIds: Iterable<string>, now: number): Promise<void> {
    const expiry = String(now + this.#ttlMs);
    await this.#redis.run("refresh", (client) =>
      Promise.all(
        [...roomIds].map((roomId) =>
          client.hSet(roomKeys(roomId).instances, this.#instance, expiry)
        ),
      ));
  }
}
