/**
 * nginx (Debian's) in front of chat server instances, with the repository's
 * `deploy/nginx.conf` and its ports filled in, for `deno task cluster` and
 * the tests. It runs in the foreground with a temporary prefix folder (its
 * pid file, logs and buffers), so it needs no root and leaves nothing
 * behind.
 *
 * ```ts
 * await using nginx = await startNginx({ port: 3000, upstreams: ["127.0.0.1:3001"] });
 * ```
 *
 * @module
 */
import { terminate } from "./_terminate.ts";
import { delay, within } from "./_timing.ts";

/** The configuration file in the repository. */
export const NGINX_CONF = new URL("../deploy/nginx.conf", import.meta.url);

/** How long nginx may take to start or to stop. */
const START_STOP_MS = 10_000;

/** Options of {@linkcode startNginx}. */
export interface NginxOptions {
  /** The port it listens on, on every address. */
  port: number;
  /** The instances, as `host:port`. */
  upstreams: string[];
}

/** An nginx process that the caller owns. */
export interface Nginx extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly pid: number;
  /** Resolves when it exits, with its exit code. */
  readonly exited: Promise<number>;
  /** Stops it (SIGQUIT: it lets requests in flight finish) and cleans up. */
  stop(): Promise<void>;
}

let nginxPath: string | undefined | null;

/**
 * The nginx program: on the PATH, or where Debian puts it (`/usr/sbin`,
 * which is not on every user's PATH); `undefined` when it is not installed.
 */
export function findNginx(): string | undefined {
  if (nginxPath === undefined) {
    const found = new Deno.Command("sh", {
      args: ["-c", "command -v nginx || command -v /usr/sbin/nginx"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    nginxPath = found.success
      ? new TextDecoder().decode(found.stdout).trim()
      : null;
  }
  return nginxPath ?? undefined;
}

/**
 * The configuration with the listening port and the instances filled in:
 * the `listen` line and the upstream's `server` lines marked "filled in".
 */
export function fillNginxConfig(
  template: string,
  { port, upstreams }: NginxOptions,
): string {
  const filled = [];
  let servers = false;
  let listen = false;
  for (const line of template.split("\n")) {
    const server = /^(\s*)server \S+;(\s+# filled in)$/.exec(line);
    if (server) {
      if (!servers) {
        filled.push(
          ...upstreams.map((upstream) =>
            `${server[1]}server ${upstream};${server[2]}`
          ),
        );
      }
      servers = true;
      continue;
    }
    const listening = /^(\s*)listen \d+;(\s+# filled in)$/.exec(line);
    if (listening) listen = true;
    filled.push(
      listening ? `${listening[1]}listen ${port};${listening[2]}` : line,
    );
  }
  if (!servers || !listen || upstreams.length === 0) {
    throw new Error(
      "deploy/nginx.conf needs its listen and server lines marked 'filled in', and at least one instance",
    );
  }
  return filled.join("\n");
}

/** Starts nginx with the repository's configuration, ports filled in. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const nginx = findNginx();
  if (!nginx) {
    throw new Error(
      "nginx is not installed: apt-get install -y nginx (or run the instances behind another balancer)",
    );
  }
  const prefix = await Deno.makeTempDir({ prefix: "chat_nginx_" });
  // Its workers may run as another user (nobody) when nginx runs as root.
  await Deno.chmod(prefix, 0o755);
  await Deno.mkdir(`${prefix}/logs`);
  const conf = `${prefix}/nginx.conf`;
  await Deno.writeTextFile(
    conf,
    fillNginxConfig(await Deno.readTextFile(NGINX_CONF), options),
  );
  const child = new Deno.Command(nginx, {
    args: [
      "-p",
      prefix,
      "-c",
      conf,
      "-e",
      "stderr",
      "-g",
      `daemon off; pid ${prefix}/nginx.pid; error_log stderr warn;`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const reading = (async () => {
    for await (
      const chunk of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      stderr += chunk;
      await Deno.stderr.write(new TextEncoder().encode(chunk));
    }
  })();
  const exited = Promise.all([child.status, reading]).then(([status]) =>
    status.code
  );
  let stopping: Promise<void> | undefined;
  function stop(signal: Deno.Signal = "SIGQUIT"): Promise<void> {
    return stopping ??= (async () => {
      await terminate(child, signal, START_STOP_MS);
      await exited;
      await Deno.remove(prefix, { recursive: true });
    })();
  }

  const url = `http://127.0.0.1:${options.port}`;
  let done = false;
  exited.then(() => done = true);
  try {
    await within(
      (async () => {
        while (!await listens(options.port)) {
          if (done) throw new Error(`nginx exited:\n${stderr}`);
          await delay(20);
        }
      })(),
      "nginx to listen",
      START_STOP_MS,
    );
  } catch (error) {
    await stop("SIGKILL");
    throw error;
  }
  return {
    url,
    pid: child.pid,
    exited,
    stop: () => stop(),
    [Symbol.asyncDispose]: () => stop(),
  };
}

/** Whether something accepts connections on a port of 127.0.0.1. */
async function listens(port: number): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    connection.close();
    return true;
  } catch {
    return false;
  }
}
