import {
  Counter,
  Gauge,
  Histogram,
  type Metric,
} from "../metrics/prometheus.ts";
import type { RedisConnection } from "./redis_connection.ts";

/**
 * What an instance on Redis counts, beside the chat's own series: whether
 * its connections are up, what it published, the gaps its feed repaired,
 * and how long Redis took to answer.
 */
export class RedisMetrics {
  /** Stored messages and presence events published, by kind. */
  readonly published: Counter = new Counter(
    "chat_redis_published_total",
    "Messages and joins and leaves this instance published on Redis, by kind (message or presence).",
    "kind",
  );
  /** Repairs that read missed messages back from a room's stream. */
  readonly gapRepairs: Counter = new Counter(
    "chat_redis_gap_repairs_total",
    "Times the messages that pub/sub did not bring were read back from a room's stream.",
  );
  /** Messages that repairs read back. */
  readonly repairedMessages: Counter = new Counter(
    "chat_redis_repaired_messages_total",
    "Messages read back from the streams by gap repairs.",
  );
  /** Ranges of ids missed and pruned before they could be read back. */
  readonly lostRanges: Counter = new Counter(
    "chat_redis_lost_ranges_total",
    "Ranges of message ids that were missed and pruned before a repair could read them.",
  );
  /** Messages in those ranges. */
  readonly lostMessages: Counter = new Counter(
    "chat_redis_lost_messages_total",
    "Messages in the lost ranges: never delivered by this instance.",
  );
  /** How long each Redis call took, from the call to the answer. */
  readonly commandSeconds: Histogram = new Histogram(
    "chat_redis_command_seconds",
    "Time from a Redis call to its answer (or its deadline), in seconds.",
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
  );

  /**
   * Every series, with gauges that read the connections' state: the one
   * for commands and the subscriber of the rooms' channels.
   */
  series(
    commands: RedisConnection,
    subscriber: RedisConnection,
  ): Metric[] {
    return [
      new Gauge(
        "chat_redis_up",
        "1 while Redis answers this instance's commands, 0 while it does not.",
        () => commands.up ? 1 : 0,
      ),
      new Gauge(
        "chat_redis_subscriber_up",
        "1 while the subscription to the rooms' channels is connected, 0 while it is not.",
        () => subscriber.up ? 1 : 0,
      ),
      this.published,
      this.gapRepairs,
      this.repairedMessages,
      this.lostRanges,
      this.lostMessages,
      this.commandSeconds,
    ];
  }
}
