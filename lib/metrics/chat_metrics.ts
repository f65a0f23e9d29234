import {
  Counter,
  Gauge,
  Histogram,
  type Metric,
  renderMetrics,
} from "./prometheus.ts";

/**
 * The close codes that keep a series of their own: those RFC 6455 and the
 * IANA registry define. A client chooses its close code, so any other code
 * is counted in one of three groups, and the metric has at most 18 series
 * however many codes clients make up.
 */
const DEFINED_CLOSE_CODES = new Set([
  1000,
  1001,
  1002,
  1003,
  1005,
  1006,
  1007,
  1008,
  1009,
  1010,
  1011,
  1012,
  1013,
  1014,
  1015,
]);

/**
 * The `code` label of a close code: a defined code as itself; `3xxx` for
 * the codes registered for libraries and frameworks (3000 to 3999), `4xxx`
 * for those of private use (4000 to 4999), `other` for anything else.
 */
export function closeCodeLabel(code: string): string {
  const number = Number(code);
  if (DEFINED_CLOSE_CODES.has(number)) return String(number);
  if (number >= 3000 && number <= 3999) return "3xxx";
  if (number >= 4000 && number <= 4999) return "4xxx";
  return "other";
}

/** A counter of closes whose label is the group of the close code. */
class CloseCounter extends Counter {
  override inc(code = "", by = 1): void {
    super.inc(closeCodeLabel(code), by);
  }
}

/** Values read at scrape time from the live server. */
export interface LiveCounts {
  /** Open WebSocket connections. */
  connections: number;
  /** Rooms with at least one member. */
  rooms: number;
  /** Room memberships across all rooms. */
  members: number;
  /** Memberships not yet reached by their room's fan-out. */
  catchingUp: number;
}

/**
 * Everything the server counts, exposed at `GET /metrics`. Counters are
 * plain numbers bumped on the spot, so counting costs almost nothing on the
 * hot path.
 */
export class ChatMetrics {
  readonly #startedAt = performance.now();
  readonly #added: Metric[] = [];

  /** WebSocket connections accepted. */
  readonly connectionsOpened: Counter = new Counter(
    "chat_connections_opened_total",
    "WebSocket connections accepted.",
  );
  /**
   * WebSocket connections closed, by close code: `inc()` takes the code and
   * counts it under {@linkcode closeCodeLabel}.
   */
  readonly connectionsClosed: Counter = new CloseCounter(
    "chat_connections_closed_total",
    "WebSocket connections closed, by close code (3xxx, 4xxx and other group the codes no standard defines).",
    "code",
  );
  /** Messages stored, by transport (`websocket` or `rest`). */
  readonly messagesReceived: Counter = new Counter(
    "chat_messages_received_total",
    "Messages stored, by transport.",
    "transport",
  );
  /** `receive-message` frames handed to room members. */
  readonly messagesDelivered: Counter = new Counter(
    "chat_messages_delivered_total",
    "receive-message frames handed to room members.",
  );
  /** Frames and requests refused, by reason. */
  readonly errors: Counter = new Counter(
    "chat_errors_total",
    "Frames and requests refused, by reason.",
    "reason",
  );
  /** Messages refused by the rate limit, by transport. */
  readonly rateLimited: Counter = new Counter(
    "chat_rate_limited_total",
    "Messages refused by the rate limit, by transport.",
    "transport",
  );
  /** Connections closed because they did not read what they were sent. */
  readonly slowClientCloses: Counter = new Counter(
    "chat_slow_client_closes_total",
    "Connections closed because their outgoing buffer passed the limit.",
  );
  /** How long storing one message took. */
  readonly storeWriteSeconds: Histogram = new Histogram(
    "chat_store_write_seconds",
    "Time to store one message, in seconds.",
    [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  );

  /**
   * Adds series of a part of the server that the chat does not know (such
   * as Redis), rendered after the chat's own.
   */
  add(...metrics: Metric[]): void {
    this.#added.push(...metrics);
  }

  /** The exposition text, with the live counts as gauges. */
  render(live: LiveCounts): string {
    return renderMetrics([
      new Gauge(
        "chat_uptime_seconds",
        "Seconds since the server started.",
        () => (performance.now() - this.#startedAt) / 1000,
      ),
      new Gauge(
        "chat_connections_open",
        "Open WebSocket connections.",
        () => live.connections,
      ),
      new Gauge(
        "chat_rooms",
        "Rooms with at least one member.",
        () => live.rooms,
      ),
      new Gauge(
        "chat_room_members",
        "Room memberships across all rooms.",
        () => live.members,
      ),
      new Gauge(
        "chat_room_members_catching_up",
        "Room memberships that get their room's frames one by one, not yet through the fan-out: joiners whose history is being sent, or who wait for the room to deliver the newest message they were sent.",
        () => live.catchingUp,
      ),
      this.connectionsOpened,
      this.connectionsClosed,
      this.messagesReceived,
      this.messagesDelivered,
      this.errors,
      this.rateLimited,
      this.slowClientCloses,
      this.storeWriteSeconds,
      ...this.#added,
    ]);
  }
}
