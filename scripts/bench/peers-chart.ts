// The peer benchmark's chart: tokens per second as horizontal bars, one group per runner and
// one bar per thread count, as a self-contained SVG for the docs.
export interface ChartBar {
  group: string;
  series: string;
  value: number;
}

const palette = ["#4c78a8", "#f58518", "#54a24b", "#e45756"];

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function barChartSvg(title: string, unit: string, bars: ChartBar[]): string {
  const groups = [...new Set(bars.map((bar) => bar.group))];
  const series = [...new Set(bars.map((bar) => bar.series))];
  const barHeight = 16;
  const groupHeight = series.length * barHeight + 14;
  const labelWidth = 230;
  const plotWidth = 420;
  const top = 40;
  const height = top + groups.length * groupHeight + 30;
  const width = labelWidth + plotWidth + 90;
  const max = Math.max(...bars.map((bar) => bar.value));
  const number = (value: number) => value.toLocaleString("en-US", { maximumFractionDigits: 0 });

  const shapes = groups.flatMap((group, g) => {
    const y0 = top + g * groupHeight;
    const label = `<text x="${labelWidth - 8}" y="${y0 + (series.length * barHeight) / 2 + 4}" text-anchor="end">${escapeXml(group)}</text>`;
    const rects = series.flatMap((name, s) => {
      const bar = bars.find((candidate) => candidate.group === group && candidate.series === name);
      if (!bar) return [];
      const y = y0 + s * barHeight;
      const length = (bar.value / max) * plotWidth;
      return [
        `<rect x="${labelWidth}" y="${y}" width="${length.toFixed(1)}" height="${barHeight - 3}" fill="${palette[s % palette.length]}"/>`,
        `<text x="${(labelWidth + length + 4).toFixed(1)}" y="${y + barHeight - 5}">${number(bar.value)}</text>`,
      ];
    });
    return [label, ...rects];
  });
  const legend = series.map(
    (name, s) =>
      `<rect x="${labelWidth + s * 110}" y="${height - 20}" width="10" height="10" fill="${palette[s % palette.length]}"/><text x="${labelWidth + s * 110 + 14}" y="${height - 11}">${escapeXml(name)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)} (${escapeXml(unit)})</text>`,
    ...shapes,
    ...legend,
    "</svg>",
    "",
  ].join("\n");
}
