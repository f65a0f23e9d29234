// The chat page: a WebSocket client in plain JavaScript, no framework.
//
// How it talks to the server (the frames are described at /asyncapi.json):
// - it sends {"type": "join-room" | "leave-room" | "send-message", ...};
// - it receives "receive-message", "join-room", "leave-room" and "error".
// It also calls the REST API: GET /rooms for the room list, and
// GET /rooms/{room_id} for a room's members. Both are asked sparingly (see
// "REST calls" below), so that many open pages do not keep a server busy.
//
// Safety rule: text from other people is only ever put on the page with
// `textContent`, never `innerHTML`, so a message like <img onerror=...>
// shows as text and cannot run code.

/** The server that served this page: http://host becomes ws://host. */
const SERVER_URL = location.origin.replace(/^http/, "ws");
/** Wait before the first reconnect; it doubles after each failure. */
const FIRST_RETRY_MS = 500;
/** The longest wait between two reconnects. */
const MAX_RETRY_MS = 10_000;
/** How often an open, visible page asks for the list of rooms again. */
const ROOM_NAMES_EVERY_MS = 30_000;
/** The shortest time between two requests for the list of rooms. */
const ROOM_NAMES_GAP_MS = 5_000;
/** How many rooms the list asks for (`GET /rooms?limit=`). */
const ROOM_NAMES_LIMIT = 100;
/** The shortest time between two requests for one room's members. */
const MEMBERS_GAP_MS = 5_000;
/** How many messages and notices a room keeps on the page. */
const MAX_ENTRIES = 500;

/**
 * The rooms this page joined, by room id, in the order they were joined.
 * Each remembers the name it joined under, what it shows, and the messages
 * it has seen (to drop duplicates after a reconnect).
 */
const rooms = new Map();
let activeRoomId = undefined;
let socket = undefined;
let retryMs = FIRST_RETRY_MS;
/** Whether this server resumes rooms from a message id (see below). */
let serverTakesSince = false;

function $(id) {
  return document.getElementById(id);
}

// ---- Connection ------------------------------------------------------------

/** Opens the WebSocket; when it closes, tries again later. */
function connect() {
  setStatus("connecting", "Connecting…");
  const ws = new WebSocket(SERVER_URL);
  socket = ws;
  ws.addEventListener("open", () => onOpen(ws));
  ws.addEventListener("message", (event) => {
    handleFrame(JSON.parse(event.data));
  });
  ws.addEventListener("close", () => {
    for (const room of rooms.values()) room.joined = false;
    renderRoomList();
    // Wait longer after each failure (up to MAX_RETRY_MS), with some
    // randomness so that many pages do not all come back at the same moment.
    const wait = retryMs * (0.75 + Math.random() / 2);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    setStatus(
      "offline",
      `Disconnected. Trying again in ${Math.ceil(wait / 1000)} s…`,
    );
    setTimeout(connect, wait);
  });
}

async function onOpen(ws) {
  retryMs = FIRST_RETRY_MS;
  serverTakesSince = await checkServerTakesSince();
  if (ws.readyState !== WebSocket.OPEN) return; // it closed while we asked
  setStatus("online", "Connected");
  // After a reconnect, join every room again under the same name (but not
  // one the user joined on this socket while the question above was out).
  for (const [roomId, room] of rooms) {
    if (room.joinedOn !== ws) sendJoin(roomId, room);
  }
}

function send(frame) {
  if (socket?.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(frame));
  return true;
}

// ---- Resuming rooms after a reconnect --------------------------------------
//
// On every join the server sends the room's recent messages. After a
// reconnect the page already shows most of them, so it drops each message it
// has seen (same `id` and `sent_at`: a server that keeps messages in memory
// starts counting ids at 1 again after a restart, so the id alone is not
// enough).
//
// A server with durable history also takes `since` in join-room: the id of
// the last message seen. It then sends exactly the newer messages, so nothing
// sent while the page was offline is missed. A server without it would refuse
// the unknown field, so the page asks the server's own API description
// whether join-room takes `since`. This is the one place that decides.

async function checkServerTakesSince() {
  try {
    const response = await fetch("/asyncapi.json");
    const api = await response.json();
    const joinRoom = api.components.schemas.JoinRoomFrame;
    return "since" in (joinRoom.properties ?? {});
  } catch {
    return false;
  }
}

function sendJoin(roomId, room) {
  const frame = { type: "join-room", room_id: roomId, from: room.name };
  if (serverTakesSince && room.lastId > 0) frame.since = room.lastId;
  if (send(frame)) room.joinedOn = socket;
}

// ---- Frames from the server ------------------------------------------------

function handleFrame(frame) {
  if (frame.type === "error") {
    return showError(`The server refused that: ${frame.error}`);
  }
  const room = rooms.get(frame.room_id);
  if (!room) return; // a frame of a room this page has left
  if (frame.type === "receive-message") addMessage(frame.room_id, room, frame);
  if (frame.type === "join-room") onJoinFrame(frame.room_id, room, frame.from);
  if (frame.type === "leave-room") {
    addEntry(frame.room_id, room, notice(`${frame.from} left`));
    // Drawn at once from the frame; the server's list follows (see below).
    room.members = room.members.filter((name) => name !== frame.from);
    if (frame.room_id === activeRoomId) renderMembers(room);
    refreshMembersSoon(frame.room_id, room);
  }
}

function onJoinFrame(roomId, room, from) {
  if (!room.joined && from === room.name) {
    // The confirmation of our own join: the history has arrived before it.
    const text = room.wasJoined ? "Reconnected" : `You joined as ${from}`;
    room.joined = true;
    room.wasJoined = true;
    addEntry(roomId, room, notice(text));
    renderRoomList();
    refreshRoomNamesSoon();
    if (roomId === activeRoomId) hideError("offline");
  } else {
    addEntry(roomId, room, notice(`${from} joined`));
  }
  if (!room.members.includes(from)) room.members.push(from);
  if (roomId === activeRoomId) renderMembers(room);
  refreshMembersSoon(roomId, room);
}

function addMessage(roomId, room, message) {
  const key = `${message.id}@${message.sent_at}`;
  if (room.seen.has(key)) return;
  room.seen.add(key);
  room.lastId = Math.max(room.lastId, message.id);
  listRoomSoon(roomId);

  const item = document.createElement("li");
  if (message.from === room.name) item.classList.add("mine");
  const from = document.createElement("strong");
  from.textContent = message.from;
  const time = document.createElement("time");
  const sentAt = new Date(message.sent_at * 1000);
  time.dateTime = sentAt.toISOString();
  time.textContent = sentAt.toLocaleTimeString([], {
    hour: "2-digit",
    minute: "2-digit",
  });
  const text = document.createElement("p");
  text.textContent = message.message;
  item.append(from, " ", time, text);
  addEntry(roomId, room, item);
}

function notice(text) {
  const item = document.createElement("li");
  item.className = "notice";
  item.textContent = text;
  return item;
}

/** Keeps a message or notice in its room, and shows it if the room is open. */
function addEntry(roomId, room, item) {
  room.entries.push(item);
  if (room.entries.length > MAX_ENTRIES) room.entries.shift().remove();
  if (roomId === activeRoomId) {
    $("messages").append(item);
    scrollToEnd();
  } else if (!item.classList.contains("notice")) {
    room.unread++;
    renderRoomList();
  }
}

// ---- What the user does ----------------------------------------------------

function joinRoom(roomId) {
  const name = $("name").value.trim();
  roomId = roomId.trim();
  if (name === "") return showError("Type your name first.", $("name"));
  if (roomId === "") return showError("Type the name of a room.", $("room"));
  hideError();
  if (!rooms.has(roomId)) {
    const room = {
      name,
      joined: false,
      wasJoined: false, // true after the first join: later ones are rejoins
      entries: [],
      seen: new Set(),
      lastId: 0,
      members: [],
      membersAsked: { at: -Infinity, timer: undefined },
      joinedOn: undefined, // the socket its last join-room went out on
      unread: 0,
    };
    rooms.set(roomId, room);
    sendJoin(roomId, room); // if offline, onOpen joins it once connected
  }
  openRoom(roomId);
  $("message").focus();
}

function leaveRoom(roomId) {
  clearTimeout(rooms.get(roomId)?.membersAsked.timer);
  rooms.delete(roomId);
  send({ type: "leave-room", room_id: roomId });
  if (activeRoomId === roomId) openRoom(rooms.keys().next().value);
  else renderRoomList();
}

function sendMessage() {
  const room = rooms.get(activeRoomId);
  const input = $("message");
  if (input.value.trim() === "") return;
  const sent = room?.joined && send({
    type: "send-message",
    room_id: activeRoomId,
    from: room.name,
    message: input.value,
  });
  if (!sent) {
    return showError(
      "Not sent: this room is not connected right now. Try again in a moment.",
      undefined,
      "offline",
    );
  }
  hideError();
  input.value = "";
}

// ---- Drawing the page ------------------------------------------------------

/** Shows one joined room (or none) in the middle of the page. */
function openRoom(roomId) {
  activeRoomId = roomId;
  const room = rooms.get(roomId);
  $("room-view").hidden = !room;
  $("members-view").hidden = !room;
  if (room) {
    room.unread = 0;
    $("room-title").textContent = roomId;
    $("messages").replaceChildren(...room.entries);
    scrollToEnd();
    renderMembers(room);
  }
  renderRoomList();
}

function renderRoomList() {
  $("no-rooms").hidden = rooms.size > 0;
  const items = [...rooms].map(([roomId, room]) => {
    const open = document.createElement("button");
    open.type = "button";
    open.textContent = roomId;
    if (!room.joined) open.textContent += " (joining…)";
    if (room.unread > 0) open.textContent += ` (${room.unread} new)`;
    if (roomId === activeRoomId) open.setAttribute("aria-current", "true");
    open.addEventListener("click", () => openRoom(roomId));

    const leave = document.createElement("button");
    leave.type = "button";
    leave.className = "leave";
    leave.textContent = "Leave";
    leave.setAttribute("aria-label", `Leave ${roomId}`);
    leave.addEventListener("click", () => leaveRoom(roomId));

    const item = document.createElement("li");
    item.append(open, leave);
    return item;
  });
  $("my-rooms").replaceChildren(...items);
}

function scrollToEnd() {
  $("messages").scrollTop = $("messages").scrollHeight;
}

function renderMembers(room) {
  $("members").replaceChildren(...room.members.map((name) => {
    const item = document.createElement("li");
    item.textContent = name;
    return item;
  }));
}

function setStatus(state, text) {
  $("status").dataset.state = state;
  $("status").textContent = text;
}

/**
 * Shows a problem in plain words, and puts the cursor where to fix it. An
 * "offline" problem goes away by itself once the room is joined again.
 */
function showError(text, fieldToFix, kind = "input") {
  $("error").textContent = text;
  $("error").dataset.kind = kind;
  $("error").hidden = false;
  fieldToFix?.focus();
}

/** Hides the problem shown, or only one of this kind. */
function hideError(kind) {
  if (kind === undefined || $("error").dataset.kind === kind) {
    $("error").hidden = true;
  }
}

// ---- REST calls ------------------------------------------------------------
//
// Each page asks little, because a classroom may keep hundreds open:
// - a room's members: the join and leave frames update the list at once,
//   and the server's own list (right when several people share a name) is
//   asked at most every MEMBERS_GAP_MS per room, however busy the room;
// - the list of rooms: on load, after joining, on a message in a room the
//   (whole) list lacks, when the page comes back into view, and every
//   ROOM_NAMES_EVERY_MS while it is visible; never twice within
//   ROOM_NAMES_GAP_MS.

/**
 * Calls `ask` now, or once the gap since the last call has passed; calls
 * made meanwhile are folded into that one.
 */
function askSoon(asked, gapMs, ask) {
  if (asked.timer !== undefined) return;
  const wait = Math.max(0, asked.at + gapMs - Date.now());
  asked.timer = setTimeout(() => {
    asked.timer = undefined;
    asked.at = Date.now();
    ask();
  }, wait);
}

function refreshMembersSoon(roomId, room) {
  askSoon(room.membersAsked, MEMBERS_GAP_MS, () => refreshMembers(roomId));
}

/** Asks the server who is in a room. */
async function refreshMembers(roomId) {
  let info = { members: [] }; // 404: nobody is there and nothing was said
  try {
    const response = await fetch(`/rooms/${encodeURIComponent(roomId)}`);
    if (response.ok) info = await response.json();
  } catch {
    return; // offline: the status line already says so
  }
  const room = rooms.get(roomId);
  if (!room) return;
  room.members = info.members;
  if (roomId === activeRoomId) renderMembers(room);
}

const roomNamesAsked = { at: -Infinity, timer: undefined };
/** The rooms the list shows, and whether the server has more. */
let listedRooms = { names: new Set(), more: false };

function refreshRoomNamesSoon() {
  askSoon(roomNamesAsked, ROOM_NAMES_GAP_MS, refreshRoomNames);
}

/** A room with messages that the whole list lacks is new: ask again. */
function listRoomSoon(roomId) {
  if (!listedRooms.more && !listedRooms.names.has(roomId)) {
    refreshRoomNamesSoon();
  }
}

/**
 * Fetches the first rooms that hold messages, for the list and the room
 * field. Only `rooms` and `has_more` are read; a server that does not page
 * the list ignores `limit` and sends them all.
 */
async function refreshRoomNames() {
  let reply;
  try {
    reply = await (await fetch(`/rooms?limit=${ROOM_NAMES_LIMIT}`)).json();
  } catch {
    return; // offline: the status line already says so
  }
  const names = reply.rooms.slice(0, ROOM_NAMES_LIMIT);
  const more = reply.has_more === true || reply.rooms.length > names.length;
  listedRooms = { names: new Set(names), more };
  $("no-room-names").hidden = names.length > 0;
  $("more-room-names").hidden = !more;
  $("room-names").replaceChildren(...names.map((name) => new Option(name)));
  $("all-rooms").replaceChildren(...names.map((name) => {
    const join = document.createElement("button");
    join.type = "button";
    join.textContent = name;
    join.setAttribute("aria-label", `Join ${name}`);
    join.addEventListener("click", () => joinRoom(name));
    const item = document.createElement("li");
    item.append(join);
    return item;
  }));
}

// ---- Start -----------------------------------------------------------------

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  joinRoom($("room").value);
});
$("send-form").addEventListener("submit", (event) => {
  event.preventDefault(); // Enter in the message field submits the form
  sendMessage();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refreshRoomNamesSoon();
});
addEventListener("focus", refreshRoomNamesSoon);
setInterval(() => {
  if (document.visibilityState === "visible") refreshRoomNamesSoon();
}, ROOM_NAMES_EVERY_MS);
connect();
refreshRoomNamesSoon();
