import type { BenchReport } from "./bench.ts";
import type { Metric } from "./metrics.ts";
import { formatNumber } from "./report_table.ts";
import type { Runtime } from "./servers.ts";

const WIDTH = 820;
const LABEL_WIDTH = 150;
const BAR_WIDTH = 470;
const BAR_HEIGHT = 18;
const ROW_HEIGHT = BAR_HEIGHT + 4;
const TOP = 64;
const SERVERS = ["ours", "baseline"] as const;
const COLORS: Record<Runtime, Record<typeof SERVERS[number], string>> = {
  deno: { ours: "#2563eb", baseline: "#9ca3af" },
  bun: { ours: "#ea580c", baseline: "#d6b48a" },
};

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(
    />/g,
    "&gt;",
  );
}

/** One bar: each of our setups, then the baseline, on each runtime. */
function barsOf(
  headlines: Metric[],
): { label: string; value: number; color: string }[] {
  const byRuntime = Map.groupBy(headlines, (metric) => metric.runtime);
  return [...byRuntime].flatMap(([runtime, metrics]) => [
    ...metrics.map((metric, i) => ({
      label: `${runtime} ${metric.server}`,
      value: metric.ours,
      // Later setups of ours a little lighter.
      color: COLORS[runtime].ours + (i === 0 ? "" : ["c0", "90", "60"][i % 3]),
    })),
    {
      label: `${runtime} baseline`,
      value: metrics[0]!.baseline,
      color: COLORS[runtime].baseline,
    },
  ]);
}

/**
 * A horizontal bar chart of each scenario's main figure, ours against the
 * baseline, on each runtime. The bars of a scenario share a scale, so their
 * lengths compare; scenarios have different units, so nothing compares
 * across.
 */
export function renderSvgChart(report: BenchReport): string {
  const groups = report.scenarios.flatMap(({ scenario, metrics }) => {
    const headlines = metrics.filter((metric) => metric.headline);
    return headlines.length > 0 ? [{ scenario: scenario.name, headlines }] : [];
  });
  const groupHeight = (headlines: Metric[]) =>
    30 + barsOf(headlines).length * ROW_HEIGHT;
  const height = TOP +
    groups.reduce((sum, { headlines }) => sum + groupHeight(headlines), 0) + 8;
  const runtimes = report.options.runtimes;
  const legend = runtimes.flatMap((runtime) =>
    SERVERS.map((server) =>
      `<tspan fill="${COLORS[runtime][server]}">■ ${runtime} ${server}</tspan>`
    )
  ).join(" ");
  const versions = [`Deno ${report.environment.deno}`];
  if (report.environment.bun) versions.push(`Bun ${report.environment.bun}`);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
    `viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="16" y="26" font-size="16" font-weight="600">Chat server: ours against the baseline</text>`,
    `<text x="16" y="46" fill="#555">${escape(report.startedAt)} · ${
      escape(versions.join(", "))
    } · ${legend}</text>`,
  ];
  let y = TOP;
  for (const { scenario, headlines } of groups) {
    const [metric] = headlines;
    const better = metric!.higherIsBetter
      ? "higher is better"
      : "lower is better";
    const ratios = headlines.map((m) =>
      `${m.ratio.toFixed(2)}x on ${m.runtime}`
    )
      .join(", ");
    parts.push(
      `<text x="16" y="${y + 14}" font-weight="600">${escape(scenario)}</text>`,
      `<text x="${LABEL_WIDTH + 16}" y="${y + 14}" fill="#555">${
        escape(metric!.name)
      }, ${better}; ours / baseline: ${ratios}</text>`,
    );
    const bars = barsOf(headlines);
    const scale = BAR_WIDTH / Math.max(...bars.map((bar) => bar.value));
    bars.forEach(({ label, value, color }, row) => {
      const barY = y + 22 + row * ROW_HEIGHT;
      const length = Math.max(1, value * scale);
      parts.push(
        `<text x="${LABEL_WIDTH + 8}" y="${
          barY + 13
        }" text-anchor="end" fill="#333">${escape(label)}</text>`,
        `<rect x="${LABEL_WIDTH + 16}" y="${barY}" width="${
          length.toFixed(1)
        }" height="${BAR_HEIGHT}" ` +
          `fill="${color}"/>`,
        `<text x="${LABEL_WIDTH + 22 + length}" y="${barY + 13}">${
          formatNumber(value)
        }</text>`,
      );
    });
    y += groupHeight(headlines);
  }
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
