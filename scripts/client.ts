/**
 * A terminal chat client: prints a room's history and every new message, and
 * sends each line typed.
 *
 * ```sh
 * deno task client --room general --name Will [--url ws://localhost:3000]
 * ```
 *
 * Lines starting with `/` are commands: `/join ROOM`, `/leave ROOM`, `/rooms`
 * and `/quit` (Ctrl-D quits too). Each line is handled once the server has
 * answered the one before it, so the client also works in a pipe:
 * `printf 'Hello\n' | deno task client --room general --name bot`.
 *
 * Whatever the server or other people send is printed with its control
 * characters escaped (`\x1b`, `\n`, `\u202e`...), so a message cannot
 * clear the screen, retitle the window or forge lines.
 *
 * @module
 */
import { JoinRoomFrame, type ServerFrame, validate } from "../lib/contract.ts";
import { escapeControls } from "../lib/escape_controls.ts";
import { optionsOrExit, parseFlags, UsageError } from "./_usage_error.ts";

const HELP = `Usage: deno task client --room ROOM --name NAME [--url URL]

  --room ROOM   the room to join first
  --name NAME   your name in every room
  --url URL     the server's WebSocket address (default ws://localhost:3000)

Type a line to send it to the room you joined last. Commands:
  /join ROOM    join another room (lines then go there)
  /leave ROOM   leave a room
  /rooms        list the rooms that hold messages
  /quit         leave (Ctrl-D too)`;

/** How long to wait for the server to answer a line. */
const ANSWER_MS = 5000;

function parseOptions(args: string[]) {
  const values = parseFlags(args, {
    room: { type: "string" },
    name: { type: "string" },
    url: { type: "string", default: "ws://localhost:3000" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return undefined;
  const { room, name, url } = values;
  if (!room?.trim()) throw new UsageError("--room ROOM is required");
  if (!name?.trim()) throw new UsageError("--name NAME is required");
  // The server's own rules, checked before connecting.
  const join = validate(JoinRoomFrame, {
    type: "join-room",
    room_id: room,
    from: name,
  });
  if (!join.ok) {
    throw new UsageError(
      join.error.replace(/^room_id /, "--room ").replace(/^from /, "--name "),
    );
  }
  if (!/^wss?:\/\/[^/]/.test(url)) {
    throw new UsageError(
      `--url must be a WebSocket address such as ws://localhost:3000, not "${url}"`,
    );
  }
  return { room, name, url };
}

/** Prints a line, its control characters made visible. */
function print(line: string): void {
  console.log(escapeControls(line));
}

/** Why a WebSocket did not open, from Deno's error message. */
function connectProblem(url: string, message: string): string {
  const reason = message.replace(/^.*failed to connect to WebSocket: /, "");
  if (/dns error|lookup/i.test(reason)) {
    return `the host "${new URL(url).hostname}" was not found: check --url`;
  }
  if (/tcp connect error|connection refused/i.test(reason)) {
    return "is the server running?";
  }
  const status = /Invalid status code: (\d+)/.exec(reason)?.[1];
  if (status) {
    return `it answered HTTP ${status}, not a WebSocket: is it the chat server?`;
  }
  return reason || "is the server running?";
}

/** Prints one frame from the server as a line of text. */
function describe(frame: ServerFrame): string {
  switch (frame.type) {
    case "receive-message": {
      const time = new Date(frame.sent_at * 1000).toTimeString().slice(0, 5);
      return `[${frame.room_id}] ${time} ${frame.from}: ${frame.message}`;
    }
    case "join-room":
      return `[${frame.room_id}] * ${frame.from} joined`;
    case "leave-room":
      return `[${frame.room_id}] * ${frame.from} left`;
    case "history-gap":
      return `[${frame.room_id}] * messages ${frame.after + 1} to ${
        frame.before - 1
      } were missed: too many to replay`;
    case "error":
      return `! ${frame.error}`;
  }
}

/** The lines of standard input, without their line endings. */
async function* readLines(): AsyncGenerator<string> {
  let buffered = "";
  for await (
    const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())
  ) {
    buffered += chunk;
    const lines = buffered.split(/\r?\n/);
    buffered = lines.pop()!;
    yield* lines;
  }
  if (buffered !== "") yield buffered;
}

/** Runs the client until `/quit`, end of input or a lost connection. */
async function run(options: { room: string; name: string; url: string }) {
  const { name } = options;
  const socket = new WebSocket(options.url);
  const opened = Promise.withResolvers<void>();
  const closed = Promise.withResolvers<CloseEvent>();
  /** The frame that answers the line being handled, if it is awaited. */
  let answer: {
    matches: (frame: ServerFrame) => boolean;
    resolve: (frame: ServerFrame) => void;
  } | undefined;

  socket.addEventListener("open", () => opened.resolve());
  socket.addEventListener("error", (event) => {
    const problem = connectProblem(
      options.url,
      (event as ErrorEvent).message ?? "",
    );
    opened.reject(new Error(`Could not connect to ${options.url}: ${problem}`));
  });
  socket.addEventListener("close", (event) => closed.resolve(event));
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data) as ServerFrame;
    print(describe(frame));
    if (answer && (frame.type === "error" || answer.matches(frame))) {
      answer.resolve(frame);
      answer = undefined;
    }
  });

  /** Sends a frame and waits for the frame that answers it, or an error. */
  async function request(
    frame: object,
    matches: (frame: ServerFrame) => boolean,
  ): Promise<ServerFrame | undefined> {
    const { promise, resolve } = Promise.withResolvers<ServerFrame>();
    answer = { matches, resolve };
    socket.send(JSON.stringify(frame));
    let timer;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ANSWER_MS);
    });
    const lost = closed.promise.then(() => undefined);
    const result = await Promise.race([promise, timeout, lost]);
    clearTimeout(timer);
    if (!result) print("! the server did not answer");
    return result;
  }

  const joined: string[] = [];
  /** Joins a room; resolves to whether the server confirmed it. */
  async function join(room: string): Promise<boolean> {
    const reply = await request(
      { type: "join-room", room_id: room, from: name },
      (f) => f.type === "join-room" && f.room_id === room && f.from === name,
    );
    if (reply?.type !== "join-room") return false;
    joined.push(room);
    return true;
  }

  async function leave(room: string) {
    const reply = await request(
      { type: "leave-room", room_id: room },
      (f) => f.type === "leave-room" && f.room_id === room,
    );
    if (reply?.type === "leave-room") joined.splice(joined.indexOf(room), 1);
  }

  async function say(message: string) {
    const room = joined.at(-1);
    if (room === undefined) return print("! join a room first: /join ROOM");
    await request(
      { type: "send-message", room_id: room, from: name, message },
      (f) =>
        f.type === "receive-message" && f.room_id === room &&
        f.from === name && f.message === message,
    );
  }

  async function listRooms() {
    const url = new URL("/rooms", options.url.replace(/^ws/, "http"));
    try {
      const { rooms } = await (await fetch(url)).json();
      print(rooms.length ? `rooms: ${rooms.join(", ")}` : "no rooms yet");
    } catch (error) {
      print(`! could not list the rooms: ${(error as Error).message}`);
    }
  }

  /** Handles one typed line; returns false to quit. */
  async function handle(line: string): Promise<boolean> {
    const [command, ...rest] = line.trim().split(/\s+/);
    const argument = rest.join(" ");
    if (!line.startsWith("/")) {
      if (line.trim() !== "") await say(line);
    } else if (command === "/quit") return false;
    else if (command === "/rooms") await listRooms();
    else if (command === "/join" && argument) await join(argument);
    else if (command === "/leave" && argument) await leave(argument);
    else if (command === "/join" || command === "/leave") {
      print(`! usage: ${command} ROOM`);
    } else {
      print(
        `! unknown command ${command}: use /join ROOM, /leave ROOM, /rooms or /quit`,
      );
    }
    return true;
  }

  await opened.promise;
  print(`connected to ${options.url} as ${name}`);
  if (!await join(options.room)) {
    socket.close(1000, "bye");
    await closed.promise;
    throw new Error(`could not join "${options.room}" (see above)`);
  }
  const lines = readLines();
  for (;;) {
    const next = await Promise.race([lines.next(), closed.promise]);
    if (next instanceof CloseEvent) {
      print(`! disconnected: ${next.reason || `code ${next.code}`}`);
      return 1;
    }
    if (next.done || !await handle(next.value)) break;
  }
  socket.close(1000, "bye");
  await closed.promise;
  return 0;
}

if (import.meta.main) {
  const options = optionsOrExit(parseOptions, HELP);
  try {
    Deno.exit(await run(options));
  } catch (error) {
    console.error(`error: ${escapeControls((error as Error).message)}`);
    Deno.exit(1);
  }
}
