// The chat page: a WebSocket client in plain JavaScript, no framework.
//
// How it talks to the server (the frames are described at /asyncapi.json):
// - it sends {"type": "join-room" | "leave-room" | "send-message", ...};
// - it receives "receive-message", "join-room", "leave-room" and "error".
// It also calls the REST API: GET /rooms for the room list, and
// GET /rooms/{room_id} for a room's members.
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
/** How often the list of rooms is fetched again. */
const ROOM_LIST_REFRESH_MS = 3_000;
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
  refreshRoomNames();
  // After a reconnect, join every room again under the same name.
  for (const [roomId, room] of rooms) sendJoin(roomId, room);
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
  send(frame);
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
    refreshMembers(frame.room_id);
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
    refreshRoomNames();
  } else {
    addEntry(roomId, room, notice(`${from} joined`));
  }
  refreshMembers(roomId);
}

function addMessage(roomId, room, message) {
  const key = `${message.id}@${message.sent_at}`;
  if (room.seen.has(key)) return;
  room.seen.add(key);
  room.lastId = Math.max(room.lastId, message.id);

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
      unread: 0,
    };
    rooms.set(roomId, room);
    sendJoin(roomId, room); // if offline, onOpen joins it once connected
  }
  openRoom(roomId);
  $("message").focus();
}

function leaveRoom(roomId) {
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

/** Shows a problem in plain words, and puts the cursor where to fix it. */
function showError(text, fieldToFix) {
  $("error").textContent = text;
  $("error").hidden = false;
  fieldToFix?.focus();
}

function hideError() {
  $("error").hidden = true;
}

// ---- REST calls ------------------------------------------------------------

/**
 * Asks the server who is in a room. The join and leave frames say who came
 * and went, but several people may share a name, so the server's list is the
 * one to show.
 */
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

/** Fetches the rooms that hold messages, for the list and the room field. */
async function refreshRoomNames() {
  let names;
  try {
    names = (await (await fetch("/rooms")).json()).rooms;
  } catch {
    return; // offline: the status line already says so
  }
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
connect();
refreshRoomNames();
setInterval(refreshRoomNames, ROOM_LIST_REFRESH_MS);
