/**
 * Where the chat keeps its data in Redis. A room's keys and its sharded
 * channel share one hash tag, `{room}`, so they live in one hash slot: a
 * script may touch them all, and a Redis Cluster keeps them on one node.
 *
 * ```text
 * chat:{general}:stream    Stream: the messages, entry ids "<id>-0"
 * chat:{general}:seq       String: the room's last id
 * chat:{general}:messages  sharded channel: each append's messages, as a JSON array
 * chat:{general}:members   Sorted set: who is in the room, by when they joined
 * chat:{general}:instances Hash: each instance's heartbeat expiry in the room
 * chat:rooms               Sorted set: rooms with messages, by first message
 * chat:rooms:oldest        Sorted set: rooms by the age of their oldest message
 * chat:instances           Sorted set: live instances, by heartbeat expiry
 * ```
 *
 * @module
 */

/** The keys and channel of one room. */
export interface RoomKeys {
  /** The stream of the room's messages. */
  stream: string;
  /** The room's last id. */
  seq: string;
  /** The sharded channel the room's stored messages are published on. */
  channel: string;
  /** The room's members on every instance. */
  members: string;
  /** When each instance with members in the room expires. */
  instances: string;
}

/** Rooms that hold messages, scored in the order of their first message. */
export const ROOMS_KEY = "chat:rooms";

/**
 * Rooms that hold messages, scored at most the `sent_at` of their oldest
 * message: pruning by age looks only at the lowest scores.
 */
export const ROOMS_BY_AGE_KEY = "chat:rooms:oldest";

/** Live server instances, scored by when their heartbeat expires (ms). */
export const INSTANCES_KEY = "chat:instances";

/**
 * The keys of a room. `%`, `{` and `}` in its id are escaped, so that the
 * whole id is the hash tag and no two rooms share a key.
 */
export function roomKeys(roomId: string): RoomKeys {
  const tag = roomId.replace(
    /[%{}]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return {
    stream: `chat:{${tag}}:stream`,
    seq: `chat:{${tag}}:seq`,
    channel: `chat:{${tag}}:messages`,
    members: `chat:{${tag}}:members`,
    instances: `chat:{${tag}}:instances`,
  };
}
