/**
 * `deno task cluster` as a user runs it: Redis, instances and nginx with
 * `deploy/nginx.conf`; clients through the balancer chat across instances;
 * Ctrl-C stops everything.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { fillNginxConfig, NGINX_CONF } from "../scripts/_nginx.ts";
import {
  assertOneConnectionEach,
  clusterTestsEnabled,
  startClusterScript,
} from "./_cluster.ts";
import { eventually, openClient, readReply } from "./_helpers.ts";

const ignore = !clusterTestsEnabled();

/** Whether something accepts connections on a port of 127.0.0.1. */
async function listens(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("fillNginxConfig() fills in deploy/nginx.conf's port and instances", async () => {
  const template = await Deno.readTextFile(NGINX_CONF);
  const filled = fillNginxConfig(template, {
    port: 8080,
    upstreams: ["10.0.0.1:3000", "10.0.0.2:3000"],
  });
  assert(filled.includes("    listen 8080;  # filled in\n"));
  assertEquals(
    [...filled.matchAll(/^\s*server (\S+);\s+# filled in$/gm)].map((m) => m[1]),
    ["10.0.0.1:3000", "10.0.0.2:3000"],
  );
  assertEquals(
    filled.replace(/^.*# filled in$\n/gm, ""),
    template.replace(/^.*# filled in$\n/gm, ""),
  );
});

Deno.test({
  name:
    "deno task cluster runs instances on one Redis behind nginx, and Ctrl-C stops all of it",
  ignore,
  async fn() {
    await using cluster = await startClusterScript(2);
    assertEquals(cluster.instances.length, 2);
    const balancer = cluster.url.replace("localhost", "127.0.0.1");
    const wsUrl = balancer.replace("http://", "ws://");
    const ann = await openClient(wsUrl);
    const bob = await openClient(wsUrl);
    try {
      // One WebSocket on each instance: nginx sends a new one to the
      // instance with the fewest.
      await assertOneConnectionEach(cluster.instances);
      await ann.join("general", "Ann");
      await bob.join("general", "Bob");
      assertEquals(await ann.next(), {
        type: "join-room",
        room_id: "general",
        from: "Bob",
      });
      ann.send({
        type: "send-message",
        room_id: "general",
        from: "Ann",
        message: "Hi Bob",
      });
      bob.send({
        type: "send-message",
        room_id: "general",
        from: "Bob",
        message: "Hi Ann",
      });
      for (const client of [ann, bob]) {
        const messages = (await client.take(2)).map((frame) => frame.message);
        assertEquals(messages.sort(), ["Hi Ann", "Hi Bob"]);
      }
      const room = await readReply(await fetch(`${balancer}/rooms/general`));
      assertEquals(room.body.members, ["Ann", "Bob"]);
    } finally {
      await ann.close();
      await bob.close();
    }

    const { code } = await cluster.stop("SIGINT");
    assertEquals(code, 0, cluster.output());
    assert(cluster.output().includes("Stopped."));
    const ports = [
      Number(new URL(balancer).port),
      ...cluster.instances.map((url) => Number(new URL(url).port)),
      cluster.redisPort,
    ];
    await eventually(
      async () => !(await Promise.all(ports.map(listens))).some(Boolean),
      "nginx, the instances and Redis to be gone",
    );
  },
});
