import type { BenchReport } from "./bench.ts";
import { formatNumber } from "./report_table.ts";

const WIDTH = 760;
const LABEL_WIDTH = 90;
const BAR_WIDTH = 470;
const BAR_HEIGHT = 18;
const GROUP_HEIGHT = 74;
const TOP = 64;
const COLORS = { ours: "#2563eb", baseline: "#9ca3af" };

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(
    />/g,
    "&gt;",
  );
}

/**
 * A horizontal bar chart of each scenario's main figure, ours against the
 * baseline. The two bars of a scenario share a scale, so their lengths
 * compare; scenarios have different units, so nothing compares across.
 */
export function renderSvgChart(report: BenchReport): string {
  const groups = report.scenarios.flatMap(({ scenario, metrics }) => {
    const metric = metrics.find((metric) => metric.headline);
    return metric ? [{ scenario: scenario.name, metric }] : [];
  });
  const height = TOP + groups.length * GROUP_HEIGHT + 16;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
    `viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="16" y="26" font-size="16" font-weight="600">Chat server: ours against the baseline</text>`,
    `<text x="16" y="46" fill="#555">${escape(report.startedAt)} · Deno ${
      escape(report.environment.deno)
    } · <tspan fill="${COLORS.ours}">■ ours</tspan> <tspan fill="${COLORS.baseline}">■ baseline</tspan></text>`,
  ];
  groups.forEach(({ scenario, metric }, i) => {
    const y = TOP + i * GROUP_HEIGHT;
    const better = metric.higherIsBetter
      ? "higher is better"
      : "lower is better";
    parts.push(
      `<text x="16" y="${y + 14}" font-weight="600">${escape(scenario)}</text>`,
      `<text x="${LABEL_WIDTH + 16}" y="${y + 14}" fill="#555">${
        escape(metric.name)
      }, ${better}: ` +
        `ours is ${metric.ratio.toFixed(2)}x the baseline</text>`,
    );
    const scale = BAR_WIDTH / Math.max(metric.ours, metric.baseline);
    (["ours", "baseline"] as const).forEach((server, row) => {
      const value = metric[server];
      const barY = y + 22 + row * (BAR_HEIGHT + 4);
      const length = Math.max(1, value * scale);
      parts.push(
        `<text x="${LABEL_WIDTH + 8}" y="${
          barY + 13
        }" text-anchor="end" fill="#333">${server}</text>`,
        `<rect x="${LABEL_WIDTH + 16}" y="${barY}" width="${
          length.toFixed(1)
        }" height="${BAR_HEIGHT}" ` +
          `fill="${COLORS[server]}"/>`,
        `<text x="${LABEL_WIDTH + 22 + length}" y="${barY + 13}">${
          formatNumber(value)
        }</text>`,
      );
    });
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
