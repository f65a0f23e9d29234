/**
 * Stops a child process: `signal` first, so that it can exit cleanly, then
 * SIGKILL if it is still running after `graceMs`. Resolves once it has
 * exited, with its status.
 */
export async function terminate(
  child: Deno.ChildProcess,
  signal: Deno.Signal,
  graceMs: number,
): Promise<Deno.CommandStatus> {
  send(child, signal);
  const timer = setTimeout(() => send(child, "SIGKILL"), graceMs);
  try {
    return await child.status;
  } finally {
    clearTimeout(timer);
  }
}

function send(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // It has exited already.
  }
}
