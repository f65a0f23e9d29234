import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { NO_RATE_LIMITS, REDIS_TARGETS, TARGETS } from "./_targets.ts";

for (const target of [...TARGETS, ...REDIS_TARGETS]) {
  Deno.test(`WebSocket join-room (${target.name})`, async (t) => {
    await t.step("works on any path, and confirms to the joiner", async () => {
      await using chat = await target.start();
      for (const path of ["/", "/ws", "/anything/at/all"]) {
        const client = await chat.connect(path);
        assertEquals(await client.join("general", "Will"), [
          { type: "join-room", room_id: "general", from: "Will" },
        ]);
      }
    });

    await t.step(
      "sends recent history oldest first, then the join",
      async () => {
        await using chat = await target.start({ "join-history": 3 });
        for (const text of ["one", "two", "three", "four"]) {
          await chat.post("/send", { room_id: "r", from: "A", message: text });
        }
        const client = await chat.connect();
        const frames = await client.join("r", "B");
        assertEquals(frames.map((frame) => frame.type), [
          "receive-message",
          "receive-message",
          "receive-message",
          "join-room",
        ]);
        assertEquals(frames.slice(0, 3).map((frame) => frame.message), [
          "two",
          "three",
          "four",
        ]);
        assertEquals(frames[0], {
          type: "receive-message",
          room_id: "r",
          from: "A",
          message: "two",
          sent_at: frames[0]!.sent_at,
          id: 2,
        });
      },
    );

    await t.step("is announced to every existing member", async () => {
      await using chat = await target.start();
      const ann = await chat.connect();
      await ann.join("general", "Ann");
      const bob = await chat.connect();
      await bob.join("general", "Bob");
      assertEquals(await ann.next(), {
        type: "join-room",
        room_id: "general",
        from: "Bob",
      });
    });

    await t.step("twice in the same room is an error", async () => {
      await using chat = await target.start();
      const client = await chat.connect();
      await client.join("general", "Will");
      client.send({ type: "join-room", room_id: "general", from: "Other" });
      assertEquals(await client.next(), {
        type: "error",
        error: 'You already joined room "general" as "Will"',
      });
    });

    await t.step(
      "a message sent while history loads arrives once",
      async () => {
        await using chat = await target.start();
        const sender = await chat.connect();
        await sender.join("busy", "Sender");
        for (let i = 0; i < 20; i++) {
          const joiner = await chat.connect();
          joiner.send({ type: "join-room", room_id: "busy", from: `J${i}` });
          sender.send({
            type: "send-message",
            room_id: "busy",
            from: "Sender",
            message: `m${i}`,
          });
          const ids: number[] = [];
          for (;;) {
            const frame = await joiner.next();
            if (frame.type === "receive-message") ids.push(frame.id);
            if (frame.type === "receive-message" && frame.message === `m${i}`) {
              break;
            }
          }
          assertEquals(new Set(ids).size, ids.length, "no duplicates");
          await joiner.close();
        }
      },
    );
  });

  Deno.test(`WebSocket send-message (${target.name})`, async (t) => {
    await t.step("reaches every member, sender included", async () => {
      await using chat = await target.start();
      const ann = await chat.connect();
      const bob = await chat.connect();
      await ann.join("general", "Ann");
      await bob.join("general", "Bob");
      await ann.next(); // Bob's join
      ann.send({
        type: "send-message",
        room_id: "general",
        from: "Ann",
        message: "Hello world!",
      });
      const [toAnn, toBob] = [await ann.next(), await bob.next()];
      assertEquals(toAnn, toBob);
      assertEquals(Object.keys(toAnn), [
        "type",
        "room_id",
        "from",
        "message",
        "sent_at",
        "id",
      ]);
      assertEquals(toAnn.type, "receive-message");
      assertEquals(toAnn.message, "Hello world!");
      assert(Math.abs(toAnn.sent_at - Date.now() / 1000) < 60);
    });

    await t.step("is refused for a room not joined", async () => {
      await using chat = await target.start();
      const client = await chat.connect();
      client.send({
        type: "send-message",
        room_id: "general",
        from: "Will",
        message: "hi",
      });
      assertEquals(await client.next(), {
        type: "error",
        error: 'Cannot send to room "general": join it first',
      });
      assertEquals((await chat.post("/receive", { room_id: "general" })).body, {
        room_id: "general",
        messages: [],
        has_more: false,
      });
    });

    await t.step("stays within its room", async () => {
      await using chat = await target.start();
      const inA = await chat.connect();
      const inB = await chat.connect();
      await inA.join("a", "Ann");
      await inB.join("b", "Bob");
      inA.send({
        type: "send-message",
        room_id: "a",
        from: "Ann",
        message: "x",
      });
      assertEquals((await inA.next()).message, "x");
      await inB.expectNoFrames();
    });

    await t.step("a burst of 500 arrives complete and in order", async () => {
      await using chat = await target.start(NO_RATE_LIMITS);
      const members = [];
      for (const name of ["A", "B", "C"]) {
        const client = await chat.connect();
        await client.join("burst", name);
        members.push(client);
      }
      await members[0]!.take(2);
      await members[1]!.take(1);
      const [sender] = members;
      for (let i = 0; i < 500; i++) {
        sender!.send({
          type: "send-message",
          room_id: "burst",
          from: "A",
          message: `#${i}`,
        });
      }
      for (const member of members) {
        const frames = await member.take(500);
        assertEquals(
          frames.map((frame) => frame.message),
          Array.from({ length: 500 }, (_, i) => `#${i}`),
        );
        const ids = frames.map((frame) => frame.id);
        assert(
          ids.every((id, i) => i === 0 || id > ids[i - 1]!),
          "ids increase",
        );
      }
      const stored = await chat.post("/receive", { room_id: "burst" });
      assertEquals(stored.body.messages.length, 500);
    });
  });

  Deno.test(`WebSocket leave-room (${target.name})`, async (t) => {
    await t.step("tells the others and confirms to the leaver", async () => {
      await using chat = await target.start();
      const ann = await chat.connect();
      const bob = await chat.connect();
      await ann.join("general", "Ann");
      await bob.join("general", "Bob");
      await ann.next();
      bob.send({ type: "leave-room", room_id: "general", from: "Bob" });
      const left = { type: "leave-room", room_id: "general", from: "Bob" };
      assertEquals(await bob.next(), left);
      assertEquals(await ann.next(), left);

      ann.send({
        type: "send-message",
        room_id: "general",
        from: "Ann",
        message: "still here?",
      });
      assertEquals((await ann.next()).message, "still here?");
      await bob.expectNoFrames();
    });

    await t.step(
      "takes the name it joined under; from is optional",
      async () => {
        await using chat = await target.start();
        const client = await chat.connect();
        await client.join("general", "Will");
        client.send({ type: "leave-room", room_id: "general" });
        assertEquals(await client.next(), {
          type: "leave-room",
          room_id: "general",
          from: "Will",
        });
      },
    );

    await t.step("of a room not joined is an error", async () => {
      await using chat = await target.start();
      const client = await chat.connect();
      client.send({ type: "leave-room", room_id: "general", from: "Will" });
      assertEquals(await client.next(), {
        type: "error",
        error: 'Cannot leave room "general": you have not joined it',
      });
    });
  });

  Deno.test(`WebSocket close (${target.name})`, async (t) => {
    await t.step("tells every room the connection had joined", async () => {
      await using chat = await target.start();
      const stays = await chat.connect();
      await stays.join("one", "Stays");
      await stays.join("two", "Stays");
      const goes = await chat.connect();
      await goes.join("one", "Goes");
      await goes.join("two", "Goes too");
      await stays.take(2);
      await goes.close();
      const frames = await stays.take(2);
      assertEquals(
        new Set(frames.map((frame) => JSON.stringify(frame))),
        new Set([
          '{"type":"leave-room","room_id":"one","from":"Goes"}',
          '{"type":"leave-room","room_id":"two","from":"Goes too"}',
        ]),
      );
    });

    await t.step("removes empty rooms from memory", async () => {
      await using chat = await target.start();
      const rooms = async () => {
        const metrics = await chat.metrics();
        return [metrics.get("chat_rooms"), metrics.get("chat_room_members")];
      };
      const client = await chat.connect();
      await client.join("a", "Will");
      await client.join("b", "Will");
      assertEquals(await rooms(), [2, 2]);
      client.send({ type: "leave-room", room_id: "a" });
      await client.next();
      assertEquals(await rooms(), [1, 1]);
      await client.close();
      const deadline = Date.now() + 2000;
      while ((await rooms())[0] !== 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assertEquals(await rooms(), [0, 0]);
    });
  });

  Deno.test(`WebSocket membership (${target.name})`, async (t) => {
    await t.step("one connection may join many rooms", async () => {
      await using chat = await target.start();
      const client = await chat.connect();
      await client.join("a", "Will");
      await client.join("b", "Will B");
      for (const room_id of ["a", "b"]) {
        client.send({
          type: "send-message",
          room_id,
          from: "Will",
          message: room_id,
        });
        assertEquals((await client.next()).room_id, room_id);
      }
    });

    await t.step("several connections may share a name", async () => {
      await using chat = await target.start();
      const phone = await chat.connect();
      const laptop = await chat.connect();
      await phone.join("general", "Will");
      await laptop.join("general", "Will");
      assertEquals(await phone.next(), {
        type: "join-room",
        room_id: "general",
        from: "Will",
      });
      const info = await chat.get("/rooms/general");
      assertEquals(info.body.members, ["Will"]);
    });
  });
}
