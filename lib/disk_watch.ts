import { statfs, statfsSync } from "node:fs";

/** Options of {@linkcode DiskWatch}. */
export interface DiskWatchOptions {
  /** A file or folder on the disk to watch (the database's folder). */
  path: string;
  /** Free bytes below which the disk counts as full. */
  minFreeBytes: number;
  /**
   * How often the free space is read again, in milliseconds.
   * @default {5000}
   */
  intervalMs?: number | undefined;
  /** Called when the disk becomes full, and when it has room again. */
  onChange?: ((full: boolean, freeBytes: number) => void) | undefined;
  /** Called once if the free space cannot be read (it is then not checked). */
  onError?: ((error: unknown) => void) | undefined;
}

/**
 * Watches the free space of the disk the store writes to, so that writes
 * can be refused (and `/readyz` fail) before the disk is full, instead of
 * every write failing once it is. The space is read every few seconds, not
 * on every write.
 */
export class DiskWatch {
  readonly #path: string;
  readonly #minFreeBytes: number;
  readonly #onChange: (full: boolean, freeBytes: number) => void;
  readonly #timer: ReturnType<typeof setInterval>;
  #full = false;

  /** Reads the free space now, then every `intervalMs` until `stop()`. */
  constructor(options: DiskWatchOptions) {
    this.#path = options.path;
    this.#minFreeBytes = options.minFreeBytes;
    this.#onChange = options.onChange ?? (() => {});
    let reported = false;
    const failed = (error: unknown) => {
      if (!reported) options.onError?.(error);
      reported = true;
    };
    try {
      this.#update(freeBytesOf(statfsSync(this.#path)));
    } catch (error) {
      failed(error);
    }
    this.#timer = setInterval(() => {
      try {
        statfs(this.#path, (error, stats) => {
          if (error) failed(error);
          else this.#update(freeBytesOf(stats));
        });
      } catch (error) {
        failed(error);
      }
    }, options.intervalMs ?? 5000);
  }

  /** Whether the free space was below the floor when last read. */
  get full(): boolean {
    return this.#full;
  }

  /** Stops reading the free space. */
  stop(): void {
    clearInterval(this.#timer);
  }

  #update(freeBytes: number): void {
    const full = freeBytes < this.#minFreeBytes;
    if (full === this.#full) return;
    this.#full = full;
    this.#onChange(full, freeBytes);
  }
}

function freeBytesOf(stats: { bavail: number; bsize: number }): number {
  return Number(stats.bavail) * Number(stats.bsize);
}
