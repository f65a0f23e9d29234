/**
 * The benchmark's scenarios: what load each one puts on the server.
 *
 * @module
 */

/**
 * Closed-loop rounds: in each round every sender sends `messages` messages
 * to its room, and the round ends when every member received every one.
 */
export interface RoundsScenario {
  kind: "rounds";
  name: string;
  /** One line for the report. */
  summary: string;
  rooms: number;
  membersPerRoom: number;
  /** Members of each room that send; the others only listen. */
  sendersPerRoom: number;
  /** Messages each sender sends per round. */
  messages: number;
  /**
   * Also measure latency at a fixed send rate: half of our server's maximum.
   * @default {false}
   */
  paced?: boolean;
}

/** Connections that join a room and stay quiet: memory per connection. */
export interface IdleScenario {
  kind: "idle";
  name: string;
  summary: string;
  rooms: number;
  membersPerRoom: number;
}

/** REST clients alternating `POST /send` and `GET /rooms`. */
export interface RestScenario {
  kind: "rest";
  name: string;
  summary: string;
  /** Requests in flight at any time. */
  concurrency: number;
  /** Rooms the messages are spread over (and `GET /rooms` lists). */
  rooms: number;
}

/** Any scenario. */
export type Scenario = RoundsScenario | IdleScenario | RestScenario;

/** Every scenario, in the order a default run goes through them. */
export const SCENARIOS: readonly Scenario[] = [
  {
    kind: "rounds",
    name: "room16",
    summary: "16 clients in one room, 32 messages each per round",
    rooms: 1,
    membersPerRoom: 16,
    sendersPerRoom: 16,
    messages: 32,
  },
  {
    kind: "rounds",
    name: "rooms",
    summary: "256 clients in 16 rooms, 8 messages each per round; then paced",
    rooms: 16,
    membersPerRoom: 16,
    sendersPerRoom: 16,
    messages: 8,
    paced: true,
  },
  {
    kind: "rounds",
    name: "fanout",
    summary: "1 sender and 1000 members in one room, 32 messages per round",
    rooms: 1,
    membersPerRoom: 1000,
    sendersPerRoom: 1,
    messages: 32,
  },
  {
    kind: "idle",
    name: "idle",
    summary: "5000 idle connections, 50 in each of 100 rooms",
    rooms: 100,
    membersPerRoom: 50,
  },
  {
    kind: "rest",
    name: "rest",
    summary: "32 concurrent HTTP clients: POST /send and GET /rooms in turn",
    concurrency: 32,
    rooms: 16,
  },
];

/** The scenario called `name`. */
export function findScenario(name: string): Scenario {
  const scenario = SCENARIOS.find((scenario) => scenario.name === name);
  if (!scenario) {
    const names = SCENARIOS.map((scenario) => scenario.name).join(", ");
    throw new RangeError(`Unknown scenario "${name}": choose from ${names}`);
  }
  return scenario;
}

/**
 * A smaller copy of a scenario with at most `max` clients (fewer rooms,
 * then fewer members), for quick checks on a slow machine or in a test.
 */
export function limitClients(scenario: Scenario, max: number): Scenario {
  if (scenario.kind === "rest") {
    return { ...scenario, concurrency: Math.min(scenario.concurrency, max) };
  }
  const membersPerRoom = Math.min(scenario.membersPerRoom, max);
  const rooms = Math.max(
    1,
    Math.min(scenario.rooms, Math.floor(max / membersPerRoom)),
  );
  if (scenario.kind === "idle") return { ...scenario, rooms, membersPerRoom };
  const sendersPerRoom = Math.min(scenario.sendersPerRoom, membersPerRoom);
  return { ...scenario, rooms, membersPerRoom, sendersPerRoom };
}
