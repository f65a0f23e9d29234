/**
 * A minimal Prometheus registry: counters, gauges and histograms rendered
 * in the text exposition format (version 0.0.4).
 *
 * @module
 */

/** Something that renders itself as exposition text. */
export interface Metric {
  /** Its lines of exposition text, `# HELP` and `# TYPE` included. */
  render(): string;
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
}

function labels(values: Record<string, string>): string {
  const pairs = Object.entries(values).map(([key, value]) =>
    `${key}="${
      value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`)
    }"`
  );
  return pairs.length ? `{${pairs.join(",")}}` : "";
}

/** A number that only goes up, optionally split by one label. */
export class Counter implements Metric {
  readonly #name: string;
  readonly #help: string;
  readonly #label: string | undefined;
  readonly #values = new Map<string, number>();

  /** Creates a counter; with `label`, each `inc` names the label's value. */
  constructor(name: string, help: string, label?: string) {
    this.#name = name;
    this.#help = help;
    this.#label = label;
    if (!label) this.#values.set("", 0);
  }

  /** Adds `by` (default 1) to the count of `labelValue`. */
  inc(labelValue = "", by = 1): void {
    this.#values.set(labelValue, (this.#values.get(labelValue) ?? 0) + by);
  }

  /** The current count of `labelValue`. */
  value(labelValue = ""): number {
    return this.#values.get(labelValue) ?? 0;
  }

  /** Renders the counter. */
  render(): string {
    let text = header(this.#name, this.#help, "counter");
    for (const [value, count] of this.#values) {
      const set = this.#label ? labels({ [this.#label]: value }) : "";
      text += `${this.#name}${set} ${count}\n`;
    }
    return text;
  }
}

/** A number read when the metrics are scraped. */
export class Gauge implements Metric {
  readonly #name: string;
  readonly #help: string;
  readonly #read: () => number;

  /** Creates a gauge that calls `read` on every scrape. */
  constructor(name: string, help: string, read: () => number) {
    this.#name = name;
    this.#help = help;
    this.#read = read;
  }

  /** Renders the gauge. */
  render(): string {
    return `${
      header(this.#name, this.#help, "gauge")
    }${this.#name} ${this.#read()}\n`;
  }
}

/** Counts observations into cumulative buckets. */
export class Histogram implements Metric {
  readonly #name: string;
  readonly #help: string;
  readonly #bounds: number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  /** Creates a histogram with these upper bounds (ascending). */
  constructor(name: string, help: string, bounds: number[]) {
    this.#name = name;
    this.#help = help;
    this.#bounds = bounds;
    this.#counts = bounds.map(() => 0);
  }

  /** Records one observation. */
  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    const index = this.#bounds.findIndex((bound) => value <= bound);
    if (index >= 0) this.#counts[index]!++;
  }

  /** How many observations were made. */
  get count(): number {
    return this.#count;
  }

  /** Renders the histogram, buckets cumulative as Prometheus expects. */
  render(): string {
    let text = header(this.#name, this.#help, "histogram");
    let cumulative = 0;
    this.#bounds.forEach((bound, i) => {
      cumulative += this.#counts[i]!;
      text += `${this.#name}_bucket{le="${bound}"} ${cumulative}\n`;
    });
    text += `${this.#name}_bucket{le="+Inf"} ${this.#count}\n`;
    text +=
      `${this.#name}_sum ${this.#sum}\n${this.#name}_count ${this.#count}\n`;
    return text;
  }
}

/** Renders metrics in the order given, as one exposition document. */
export function renderMetrics(metrics: Iterable<Metric>): string {
  return [...metrics].map((metric) => metric.render()).join("");
}
