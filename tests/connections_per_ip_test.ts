/**
 * One address cannot take every slot: with the default flags, it may hold
 * 256 connections and open 50 a second (bursts of 100), on every target.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { within } from "./_helpers.ts";
import { type HandshakeAnswer, tryRawWebSocket } from "./_raw_socket.ts";
import { TARGETS } from "./_targets.ts";

/** Opens a WebSocket: the socket once open, or `null` if it was refused. */
async function openOrRefused(url: string): Promise<WebSocket | null> {
  const socket = new WebSocket(url);
  const closed = new Promise((resolve) => socket.onclose = resolve);
  const opened = await within(
    new Promise<boolean>((resolve) => {
      socket.onopen = () => resolve(true);
      socket.onerror = () => resolve(false);
    }),
    "the WebSocket to open or fail",
    10_000,
  );
  if (opened) return socket;
  await closed;
  return null;
}

/** Closes open WebSockets and waits until each has closed. */
async function closeAll(sockets: (WebSocket | null)[]): Promise<void> {
  await Promise.all(sockets.map((socket) => {
    if (!socket) return;
    const closed = new Promise((resolve) => socket.onclose = resolve);
    socket.close();
    return within(closed, "the WebSocket to close");
  }));
}

/** The refusal of a WebSocket asked for now, as status and body. */
async function refusal(wsUrl: string): Promise<[number, unknown]> {
  const answer: HandshakeAnswer = await tryRawWebSocket(wsUrl);
  if ("conn" in answer) {
    answer.conn.close();
    throw new Error("the WebSocket was accepted");
  }
  return [answer.status, JSON.parse(answer.body)];
}

for (const target of TARGETS) {
  Deno.test(`one address may open 100 WebSockets at once, then 50 a second, by default (${target.name})`, async () => {
    await using chat = await target.start();
    const sockets = await Promise.all(
      Array.from({ length: 150 }, () => openOrRefused(chat.wsUrl)),
    );
    try {
      const opened = sockets.filter((socket) => socket).length;
      // The burst of 100, and what the rate adds while they connect.
      assert(opened >= 100 && opened < 130, `${opened} opened`);
    } finally {
      await closeAll(sockets);
    }
  });

  Deno.test(`a connection over its address's connect rate is answered 503 (${target.name})`, async () => {
    await using chat = await target.start({ "ip-connect-rate": 1 });
    const sockets = [
      await openOrRefused(chat.wsUrl),
      await openOrRefused(chat.wsUrl),
    ];
    try {
      assertEquals(
        sockets.filter((socket) => socket).length,
        2,
        "a burst of 2",
      );
      assertEquals(await refusal(chat.wsUrl), [503, {
        error: "too many new connections from 127.0.0.1: try again in 1 s",
      }]);
    } finally {
      await closeAll(sockets);
    }
  });

  Deno.test(`one address may hold 256 WebSockets, by default (${target.name})`, async () => {
    await using chat = await target.start({ "ip-connect-rate": 0 });
    const sockets = await Promise.all(
      Array.from({ length: 256 }, () => openOrRefused(chat.wsUrl)),
    );
    try {
      assertEquals(sockets.filter((socket) => socket).length, 256);
      assertEquals(await refusal(chat.wsUrl), [503, {
        error: "too many connections from 127.0.0.1: at most 256",
      }]);
    } finally {
      await closeAll(sockets);
    }
    // They count no more once they have closed.
    const deadline = Date.now() + 5000;
    let socket;
    do socket = await openOrRefused(chat.wsUrl); while (
      !socket && Date.now() < deadline
    );
    assert(socket, "a WebSocket once the others have closed");
    await closeAll([socket]);
  });
}

for (const target of TARGETS) {
  Deno.test(`a trusted proxy's connections do not count as one address's (${target.name})`, async () => {
    await using chat = await target.start({
      "trust-proxy": ["127.0.0.1"],
      "max-connections-per-ip": 2,
    });
    const answers = [];
    try {
      for (const client of ["10.0.0.1", "10.0.0.2", "10.0.0.3"]) {
        answers.push(
          await tryRawWebSocket(chat.wsUrl, [`X-Forwarded-For: ${client}`]),
        );
      }
      assertEquals(answers.map((answer) => "conn" in answer), [
        true,
        true,
        true,
      ]);
    } finally {
      for (const answer of answers) if ("conn" in answer) answer.conn.close();
    }
  });
}
