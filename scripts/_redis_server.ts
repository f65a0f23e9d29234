/**
 * A real `redis-server` for the tests and `deno task cluster`: Debian's, on an ephemeral port, with
 * a temporary directory, that a test can SIGKILL, pause and start again on
 * the same port and directory, and that `await using` stops and removes.
 *
 * ```ts
 * await using redis = await startRedisServer({ durable: true });
 * const store = await connectTo(redis.url);
 * await redis.kill();     // SIGKILL, as a crash
 * await redis.restart();  // same port, same directory: the AOF is replayed
 * ```
 *
 * Without `redis-server` the Redis tests are skipped with a loud warning on a
 * developer's machine and fail in CI (`CI=true`), where `.ci/run` installs it
 * (see `tests/_redis_server.ts`).
 *
 * @module
 */
import { freePort } from "./_free_port.ts";
import { terminate } from "./_terminate.ts";
import { delay, within } from "./_timing.ts";

/** The program the tests start. */
export const REDIS_SERVER = "redis-server";

/** How long Redis may take to start or to stop. */
const START_MS = 10_000;
/** How long Redis may take to exit on SIGTERM before it is killed. */
const STOP_MS = 3000;

/** Options of {@linkcode startRedisServer}. */
export interface RedisServerOptions {
  /**
   * Append-only file, fsynced before every write is acknowledged
   * (`appendonly yes`, `appendfsync always`), so that a SIGKILL loses no
   * acknowledged write. Without it Redis keeps everything in memory only.
   * @default {false}
   */
  durable?: boolean;
  /**
   * TLS only (`rediss://localhost:PORT`), with a certificate for `localhost`
   * and `127.0.0.1` signed by a new CA (`caFile`); made with `openssl`.
   * @default {false}
   */
  tls?: boolean;
  /**
   * A Redis Cluster of this one node, which owns every hash slot: a script
   * whose declared keys are in different slots fails there with
   * `CROSSSLOT`, as on any cluster. It takes a second or two to start.
   * @default {false}
   */
  cluster?: boolean;
  /** More `redis-server` arguments, such as `["--requirepass", "secret"]`. */
  args?: string[];
}

/** A `redis-server` process that the test owns. */
export interface RedisServer extends AsyncDisposable {
  /** The TCP port, the same across restarts. */
  readonly port: number;
  /** Its working directory (the append-only file lives there). */
  readonly dir: string;
  /** `redis://127.0.0.1:PORT`, or `rediss://localhost:PORT` with TLS. */
  readonly url: string;
  /** With TLS: the CA certificate (PEM file) that signed the server's. */
  readonly caFile?: string;
  /** Whether the process is running (started and not killed). */
  readonly running: boolean;
  /** Its process id while it runs, to read its CPU time. */
  readonly pid: number | undefined;
  /** SIGKILL, as a crash; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory, after a kill or stop. */
  restart(): Promise<void>;
  /** SIGSTOP: the socket stays open and nothing answers, as on a hung host. */
  pause(): void;
  /** SIGCONT after {@linkcode pause}. */
  resume(): void;
  /** Stops the process and removes the directory. */
  stop(): Promise<void>;
}

let installed: boolean | undefined;

/** Whether `redis-server` is on the PATH (asked once). */
export function redisServerInstalled(): boolean {
  return installed ??= new Deno.Command("sh", {
    args: ["-c", `command -v ${REDIS_SERVER}`],
    stdout: "null",
    stderr: "null",
  }).outputSync().success;
}

/** Starts `redis-server` on a free port of 127.0.0.1 in a temporary folder. */
export async function startRedisServer(
  options: RedisServerOptions = {},
): Promise<RedisServer> {
  const dir = await Deno.makeTempDir({ prefix: "chat_redis_" });
  const tls = options.tls ? await makeCertificates(dir) : undefined;
  const args = [
    ...(tls
      ? [
        "--tls-cert-file",
        tls.cert,
        "--tls-key-file",
        tls.key,
        "--tls-ca-cert-file",
        tls.ca,
        "--tls-auth-clients",
        "no",
      ]
      : []),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--logfile",
    "redis.log",
    ...(options.durable
      ? ["--appendonly", "yes", "--appendfsync", "always"]
      : ["--appendonly", "no"]),
    ...(options.cluster
      ? ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
      : []),
    ...options.args ?? [],
  ];
  const cluster = options.cluster ?? false;
  let child: Deno.ChildProcess | undefined;
  let port = 0;
  // A free port can be taken between the probe and the start: try again.
  for (let attempt = 0; !child; attempt++) {
    port = freePort();
    try {
      child = await spawn(port, args, dir, tls?.ca, cluster);
    } catch (error) {
      if (attempt === 4) {
        await Deno.remove(dir, { recursive: true });
        throw error;
      }
    }
  }

  let process: Deno.ChildProcess | undefined = child;
  async function kill(): Promise<void> {
    if (!process) return;
    const exiting = process;
    process = undefined;
    try {
      exiting.kill("SIGKILL");
    } catch {
      // It has exited already.
    }
    await within(exiting.status, "redis-server to exit", START_MS);
  }
  async function stop(): Promise<void> {
    const exiting = process;
    process = undefined;
    // SIGTERM lets it exit cleanly; a Redis that hangs is killed.
    if (exiting) await terminate(exiting, "SIGTERM", STOP_MS);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return {
    port,
    dir,
    url: tls ? `rediss://localhost:${port}` : `redis://127.0.0.1:${port}`,
    ...tls ? { caFile: tls.ca } : {},
    get running() {
      return process !== undefined;
    },
    get pid() {
      return process?.pid;
    },
    kill,
    async restart() {
      if (process) throw new Error("redis-server is running: kill it first");
      process = await spawn(port, args, dir, tls?.ca, cluster);
    },
    pause: () => process?.kill("SIGSTOP"),
    resume: () => process?.kill("SIGCONT"),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Starts the process and waits until it answers PING (and, as a cluster,
 * until it owns every slot and says the cluster is ok).
 */
async function spawn(
  port: number,
  args: string[],
  dir: string,
  caFile?: string,
  cluster = false,
): Promise<Deno.ChildProcess> {
  const ports = caFile
    ? ["--port", "0", "--tls-port", String(port)]
    : ["--port", String(port)];
  const caCerts = caFile ? [await Deno.readTextFile(caFile)] : undefined;
  const child = new Deno.Command(REDIS_SERVER, {
    args: [...ports, ...args],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + START_MS;
  let exited = false;
  child.status.then(() => exited = true);
  let answered = false;
  let slotsAdded = false;
  while (!exited && Date.now() < deadline) {
    answered ||= /^\+PONG|^-NOAUTH/.test(await ask(port, "PING", caCerts));
    if (answered && !cluster) return child;
    if (answered) {
      // After a restart the node still owns its slots (nodes.conf).
      slotsAdded ||= /^\+OK|already busy/.test(
        await ask(port, "CLUSTER ADDSLOTSRANGE 0 16383", caCerts),
      );
      const info = await ask(port, "CLUSTER INFO", caCerts);
      if (slotsAdded && info.includes("cluster_state:ok")) return child;
    }
    await delay(20);
  }
  if (!exited) child.kill("SIGKILL");
  await child.status;
  const log = await Deno.readTextFile(`${dir}/redis.log`).catch(() => "");
  throw new Error(
    `redis-server did not start on port ${port}:\n${log.slice(-2000)}`,
  );
}

/**
 * Sends one inline command to the Redis on `port` and returns the first
 * bytes of its reply ("" if it did not answer within a second). "-LOADING"
 * means it is still replaying its file.
 */
async function ask(
  port: number,
  command: string,
  caCerts?: string[],
): Promise<string> {
  let connection: Deno.Conn | undefined;
  try {
    connection = caCerts
      ? await Deno.connectTls({ hostname: "localhost", port, caCerts })
      : await Deno.connect({ hostname: "127.0.0.1", port });
    await connection.write(new TextEncoder().encode(`${command}\r\n`));
    const buffer = new Uint8Array(4096);
    const reading = connection.read(buffer);
    reading.catch(() => {}); // rejects when closed after a timeout
    const read = await within(reading, "an answer", 1000);
    return new TextDecoder().decode(buffer.subarray(0, read ?? 0));
  } catch {
    return "";
  } finally {
    connection?.close();
  }
}

/** A CA, and a certificate it signed for localhost, in `dir`, by `openssl`. */
async function makeCertificates(dir: string) {
  const files = {
    ca: `${dir}/ca.pem`,
    cert: `${dir}/server.pem`,
    key: `${dir}/server.key`,
  };
  const steps = [
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
      .concat(["-subj", "/CN=chat test CA", "-keyout", `${dir}/ca.key`])
      .concat(["-out", files.ca]),
    ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost"]
      .concat(["-keyout", files.key, "-out", `${dir}/server.csr`]),
    ["x509", "-req", "-in", `${dir}/server.csr`, "-days", "2"]
      .concat(["-CA", files.ca, "-CAkey", `${dir}/ca.key`, "-CAcreateserial"])
      .concat(["-extfile", `${dir}/san.cnf`, "-out", files.cert]),
  ];
  await Deno.writeTextFile(
    `${dir}/san.cnf`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  for (const args of steps) {
    const { success, stderr } = await new Deno.Command("openssl", {
      args,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) {
      throw new Error(`openssl failed: ${new TextDecoder().decode(stderr)}`);
    }
  }
  return files;
}
