import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { ChatMetrics, closeCodeLabel } from "../lib/metrics/chat_metrics.ts";
import { Counter, Histogram } from "../lib/metrics/prometheus.ts";

Deno.test("ChatMetrics.render() writes the Prometheus text format", () => {
  const metrics = new ChatMetrics();
  metrics.messagesReceived.inc("websocket", 2);
  metrics.errors.inc("invalid_json");
  metrics.storeWriteSeconds.observe(0.0003);
  const text = metrics.render({ connections: 4, rooms: 2, members: 5 });
  for (
    const line of [
      "# TYPE chat_connections_open gauge",
      "chat_connections_open 4",
      "chat_rooms 2",
      "chat_room_members 5",
      'chat_messages_received_total{transport="websocket"} 2',
      'chat_errors_total{reason="invalid_json"} 1',
      "# TYPE chat_store_write_seconds histogram",
      'chat_store_write_seconds_bucket{le="0.0001"} 0',
      'chat_store_write_seconds_bucket{le="0.0005"} 1',
      'chat_store_write_seconds_bucket{le="+Inf"} 1',
      "chat_store_write_seconds_count 1",
    ]
  ) {
    assert(text.includes(`${line}\n`), `missing: ${line}`);
  }
  assert(/^chat_uptime_seconds \d/m.test(text));
});

Deno.test("Counter escapes label values", () => {
  const counter = new Counter("c_total", "help", "reason");
  counter.inc('say "hi"\\\n');
  assert(
    counter.render().includes('c_total{reason="say \\"hi\\"\\\\\\n"} 1\n'),
  );
});

Deno.test("Histogram buckets are cumulative", () => {
  const histogram = new Histogram("h", "help", [1, 2]);
  for (const value of [0.5, 1.5, 1.5, 9]) histogram.observe(value);
  const buckets = histogram.render().split("\n").filter((line) =>
    line.startsWith("h_bucket")
  );
  assertEquals(buckets, [
    'h_bucket{le="1"} 1',
    'h_bucket{le="2"} 3',
    'h_bucket{le="+Inf"} 4',
  ]);
});

Deno.test("closeCodeLabel() keeps the defined codes and groups the rest", () => {
  const cases: [string, string][] = [
    ["1000", "1000"],
    ["1013", "1013"],
    ["1004", "other"],
    ["2999", "other"],
    ["3000", "3xxx"],
    ["3999", "3xxx"],
    ["4000", "4xxx"],
    ["4999", "4xxx"],
    ["5000", "other"],
    ["abc", "other"],
  ];
  for (const [code, label] of cases) {
    assertEquals(closeCodeLabel(code), label, code);
  }
});
