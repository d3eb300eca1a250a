/**
 * A grouped bar chart as a standalone SVG string: enough for docs/charts, without a charting
 * dependency. Values are drawn on a linear axis from 0; an optional target draws a dashed line.
 */
export interface BarChart {
  title: string;
  /** Groups along the x axis (e.g. algorithms). */
  categories: string[];
  /** One bar per category per series (e.g. per load level). */
  series: { name: string; values: (number | null)[] }[];
  unit: string;
  target?: { value: number; label: string };
  /** Format of the axis labels and tooltips. */
  format?: (v: number) => string;
  /** Top of the axis; default: a round number above the largest value. Shares use 1. */
  max?: number;
}

const COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948'];

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

export function barChart(chart: BarChart): string {
  const format = chart.format ?? ((v: number) => String(Number(v.toPrecision(3))));
  const groupWidth = Math.max(60, 18 * chart.series.length + 24);
  const left = 70;
  const top = 50;
  const height = 260;
  const width = left + groupWidth * chart.categories.length + 20;
  const values = chart.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = chart.max ?? niceMax(Math.max(...values, chart.target?.value ?? 0) * 1.1);
  const y = (v: number) => top + height - (v / max) * height;
  const bar = (groupWidth - 24) / chart.series.length;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + height + 90}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeXml(chart.title)}</text>`,
  );
  for (let k = 0; k <= 5; k++) {
    const v = (max * k) / 5;
    parts.push(
      `<line x1="${left}" x2="${width - 20}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${escapeXml(format(v))}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(14 ${top + height / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.unit)}</text>`,
  );
  chart.categories.forEach((category, c) => {
    const x0 = left + c * groupWidth + 12;
    chart.series.forEach((series, s) => {
      const v = series.values[c];
      if (v === null || v === undefined) return;
      const x = x0 + s * bar;
      parts.push(
        `<rect x="${x}" y="${y(v)}" width="${bar - 2}" height="${top + height - y(v)}" fill="${COLOURS[s % COLOURS.length]}"><title>${escapeXml(`${category}, ${series.name}: ${format(v)}`)}</title></rect>`,
      );
    });
    parts.push(
      `<text transform="translate(${x0 + (groupWidth - 24) / 2} ${top + height + 12}) rotate(30)" text-anchor="start">${escapeXml(category)}</text>`,
    );
  });
  if (chart.target) {
    const ty = y(chart.target.value);
    parts.push(
      `<line x1="${left}" x2="${width - 20}" y1="${ty}" y2="${ty}" stroke="#c00" stroke-dasharray="6 4"/>`,
      `<text x="${width - 22}" y="${ty - 4}" text-anchor="end" fill="#c00">${escapeXml(chart.target.label)}</text>`,
    );
  }
  chart.series.forEach((series, s) => {
    const x = left + s * 150;
    parts.push(
      `<rect x="${x}" y="30" width="10" height="10" fill="${COLOURS[s % COLOURS.length]}"/>`,
      `<text x="${x + 14}" y="39">${escapeXml(series.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
