/**
 * `deno task cluster`: the chat server as several instances on one Redis,
 * behind nginx, on one machine, to try what a deployment does: open
 * <http://localhost:3000> in two browsers and chat across instances, kill
 * one and watch its members leave.
 *
 * ```sh
 * deno task cluster                                   # 3 instances, a Redis of its own, port 3000
 * deno task cluster --instances 2 --port 8080
 * deno task cluster --redis redis://127.0.0.1:6379    # a Redis already running
 * deno task cluster -- --history-max 500              # flags for every instance
 * ```
 *
 * Without `--redis` it starts Debian's `redis-server` in a temporary folder
 * (append-only, fsync always), whose data is gone when the script stops.
 * The balancer is nginx with `deploy/nginx.conf`, its ports filled in.
 * Ctrl-C (or SIGTERM) stops nginx, then the instances, then Redis.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { freePort } from "./_free_port.ts";
import { findNginx, type Nginx, startNginx } from "./_nginx.ts";
import {
  type RedisServer,
  redisServerInstalled,
  startRedisServer,
} from "./_redis_server.ts";
import { type ServerProcess, startServerProcess } from "./_server_process.ts";

const HELP = `Usage: deno task cluster [options] [-- server flags]

Starts Redis, N instances of the chat server on it, and nginx in front.

Options:
  --instances <n>  how many instances (default 3)
  --port <port>    the port nginx listens on, on every address (default: the
                   variable PORT, or 3000; 0 picks a free one)
  --redis <url>    use this Redis instead of starting one
  -h, --help       show this help

Flags after -- go to every instance, e.g. -- --history-max 500.`;

/** What the command line asked for. */
interface Request {
  instances: number;
  port: number;
  redis: string | undefined;
  serverArgs: string[];
}

function parseRequest(args: string[]): Request | undefined {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      instances: { type: "string", default: "3" },
      port: { type: "string", default: Deno.env.get("PORT") || "3000" },
      redis: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return undefined;
  const instances = Number(values.instances);
  if (!Number.isInteger(instances) || instances < 1 || instances > 64) {
    throw new RangeError(
      `--instances must be a whole number from 1 to 64, not "${values.instances}"`,
    );
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `--port must be a port number (0 picks a free one), not "${values.port}"`,
    );
  }
  return {
    instances,
    port: port === 0 ? freePort() : port,
    redis: values.redis,
    serverArgs: positionals,
  };
}

/** Everything the cluster runs; stopped in the reverse order it started. */
class Cluster {
  redis: RedisServer | undefined;
  instances: ServerProcess[] = [];
  nginx: Nginx | undefined;
  #stopping: Promise<void> | undefined;

  /** Whether it is being stopped (an exit is then expected). */
  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  /** nginx first (no new clients), then the instances, then Redis. */
  stop(): Promise<void> {
    return this.#stopping ??= (async () => {
      await this.nginx?.stop();
      await Promise.all(this.instances.map((instance) => instance.stop()));
      await this.redis?.stop();
    })();
  }
}

async function start(request: Request, cluster: Cluster): Promise<void> {
  let redisUrl = request.redis;
  if (redisUrl === undefined) {
    if (!redisServerInstalled()) {
      throw new Error(
        "redis-server is not installed: apt-get install -y redis-server, or give --redis URL",
      );
    }
    cluster.redis = await startRedisServer({ durable: true });
    redisUrl = cluster.redis.url;
    console.log(
      `Redis:      ${redisUrl} (its data is thrown away when this stops)`,
    );
  }
  if (!findNginx()) {
    throw new Error("nginx is not installed: apt-get install -y nginx");
  }
  const started = await Promise.allSettled(
    Array.from({ length: request.instances }, (_, i) => {
      const label = `[instance ${i + 1}] `;
      return startServerProcess([
        "--redis",
        redisUrl,
        // nginx, on this machine, names the client in X-Forwarded-For.
        "--trust-proxy",
        "127.0.0.1",
        ...request.serverArgs,
      ], { onLine: (line) => console.log(label + line) });
    }),
  );
  for (const result of started) {
    if (result.status === "fulfilled") cluster.instances.push(result.value);
  }
  const failed = started.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  for (const [i, instance] of cluster.instances.entries()) {
    instance.exited.then((code) => {
      if (!cluster.stopping) {
        console.log(
          `Instance ${
            i + 1
          } exited (code ${code}); the others carry on, and its members have left.`,
        );
      }
    });
  }
  cluster.nginx = await startNginx({
    port: request.port,
    upstreams: cluster.instances.map((instance) =>
      new URL(instance.httpUrl).host
    ),
  });
  cluster.nginx.exited.then(async (code) => {
    if (cluster.stopping) return;
    // Code 0: it was stopped (Ctrl-C reaches the whole process group, nginx
    // too, perhaps before this process hears it); else it failed.
    console.error(`nginx exited (code ${code}): stopping the cluster`);
    await cluster.stop();
    Deno.exit(code === 0 ? 0 : 1);
  });
  console.log(
    `Chat cluster ready: http://localhost:${request.port} (nginx in front of ${request.instances} instances on ${redisUrl})`,
  );
  console.log("Press Ctrl-C to stop it.");
}

async function main(): Promise<void> {
  let request;
  try {
    request = parseRequest(Deno.args);
  } catch (error) {
    console.error(`error: ${(error as Error).message} (see --help)`);
    Deno.exit(2);
  }
  if (!request) return console.log(HELP);
  const cluster = new Cluster();
  const stop = async (signal: Deno.Signal) => {
    // A signal may come twice: from the terminal, and from `deno task`.
    if (!cluster.stopping) {
      console.log(`${signal}: stopping nginx, the instances and Redis`);
    }
    await cluster.stop();
    console.log("Stopped.");
    Deno.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stop(signal));
  }
  try {
    await start(request, cluster);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    await cluster.stop();
    Deno.exit(1);
  }
}

if (import.meta.main) await main();
