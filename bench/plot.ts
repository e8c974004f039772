/**
 * The benchmark's plot: wall time and peak memory of the full sync against N, as a self-contained SVG (no
 * dependencies, no scripts), so growth is seen at a glance. Min-max whiskers over the runs, targets dashed.
 */
export interface PlotPoint {
	n: number;
	wallS: { median: number; min: number; max: number };
	againS: { median: number; min: number; max: number };
	rssMb: { median: number; min: number; max: number };
	/** The heap still in use right after a major collection (what the sync keeps alive). */
	liveHeapMb: { median: number; min: number; max: number } | null;
}

export interface PlotInput {
	title: string;
	subtitle: string;
	points: PlotPoint[];
	/** Horizontal target lines per panel. */
	wallTargets: { value: number; label: string }[];
	rssTargets: { value: number; label: string }[];
}

interface Series {
	name: string;
	color: string;
	values: { n: number; median: number; min: number; max: number }[];
}

const W = 980;
const H = 420;
const PANEL_W = 400;
const PANEL_H = 280;
const TOP = 80;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmtN = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n));

function niceMax(value: number): number {
	if (!(value > 0)) return 1;
	const exp = 10 ** Math.floor(Math.log10(value));
	for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * exp >= value) return m * exp;
	return 10 * exp;
}

function panel(x0: number, title: string, unit: string, series: Series[], targets: { value: number; label: string }[], maxN: number): string {
	const y0 = TOP;
	const maxY = niceMax(Math.max(...series.flatMap((s) => s.values.map((v) => v.max)), ...targets.map((t) => t.value)) * 1.08);
	const px = (n: number): number => x0 + (n / maxN) * PANEL_W;
	const py = (v: number): number => y0 + PANEL_H - (v / maxY) * PANEL_H;
	const out: string[] = [];
	out.push(`<text x="${x0}" y="${y0 - 14}" class="h">${esc(title)}</text>`);
	out.push(`<rect x="${x0}" y="${y0}" width="${PANEL_W}" height="${PANEL_H}" class="frame"/>`);
	for (let i = 0; i <= 5; i++) {
		const v = (maxY / 5) * i;
		const y = py(v);
		out.push(`<line x1="${x0}" y1="${y}" x2="${x0 + PANEL_W}" y2="${y}" class="grid"/>`);
		out.push(`<text x="${x0 - 6}" y="${y + 4}" class="ax" text-anchor="end">${+v.toFixed(2)}</text>`);
	}
	const ticks = [...new Set(series.flatMap((s) => s.values.map((v) => v.n)))].sort((a, b) => a - b);
	for (const n of ticks) {
		out.push(`<line x1="${px(n)}" y1="${y0 + PANEL_H}" x2="${px(n)}" y2="${y0 + PANEL_H + 5}" class="frame"/>`);
		out.push(`<text x="${px(n)}" y="${y0 + PANEL_H + 18}" class="ax" text-anchor="middle">${fmtN(n)}</text>`);
	}
	out.push(`<text x="${x0 + PANEL_W / 2}" y="${y0 + PANEL_H + 36}" class="ax" text-anchor="middle">items (N)</text>`);
	out.push(
		`<text x="${x0 - 44}" y="${y0 + PANEL_H / 2}" class="ax" text-anchor="middle" transform="rotate(-90 ${x0 - 44} ${y0 + PANEL_H / 2})">${esc(unit)}</text>`,
	);
	targets.forEach((t, i) => {
		const y = py(t.value);
		out.push(`<line x1="${x0}" y1="${y}" x2="${x0 + PANEL_W}" y2="${y}" class="target"/>`);
		out.push(`<text x="${x0 + PANEL_W - 4}" y="${y - 4 - i * 0}" class="tl" text-anchor="end">${esc(t.label)}</text>`);
	});
	series.forEach((s, si) => {
		const pts = s.values.map((v) => `${px(v.n).toFixed(1)},${py(v.median).toFixed(1)}`).join(' ');
		out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
		for (const v of s.values) {
			out.push(`<line x1="${px(v.n)}" y1="${py(v.min)}" x2="${px(v.n)}" y2="${py(v.max)}" stroke="${s.color}" stroke-width="1"/>`);
			out.push(`<circle cx="${px(v.n)}" cy="${py(v.median)}" r="3.5" fill="${s.color}"/>`);
			// Labels of the second series go below their points, so the two never overlap.
			out.push(`<text x="${px(v.n) + 6}" y="${py(v.median) + (si % 2 === 0 ? -6 : 14)}" class="val" fill="${s.color}">${+v.median.toFixed(2)}</text>`);
		}
		out.push(`<rect x="${x0 + 10}" y="${y0 + 10 + si * 18}" width="12" height="3" fill="${s.color}"/>`);
		out.push(`<text x="${x0 + 28}" y="${y0 + 15 + si * 18}" class="ax">${esc(s.name)}</text>`);
	});
	return out.join('\n');
}

export function renderPlot(input: PlotInput): string {
	const points = [...input.points].sort((a, b) => a.n - b.n);
	const maxN = niceMax(Math.max(...points.map((p) => p.n)) * 1.05);
	const wall: Series[] = [
		{ name: 'full sync into an empty database', color: '#1f6feb', values: points.map((p) => ({ n: p.n, ...p.wallS })) },
		{ name: 'the same full sync again (unchanged)', color: '#8250df', values: points.map((p) => ({ n: p.n, ...p.againS })) },
	];
	const rss: Series[] = [{ name: 'peak RSS of the sync process', color: '#cf222e', values: points.map((p) => ({ n: p.n, ...p.rssMb })) }];
	if (points.every((p) => p.liveHeapMb)) {
		rss.push({ name: 'live heap (in use right after a major GC)', color: '#1a7f37', values: points.map((p) => ({ n: p.n, ...p.liveHeapMb! })) });
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">
<style>
.frame { fill: none; stroke: #57606a; stroke-width: 1 }
.grid { stroke: #d0d7de; stroke-width: 0.5 }
.target { stroke: #9a6700; stroke-width: 1.2; stroke-dasharray: 6 4 }
.h { font-size: 14px; font-weight: bold; fill: #24292f }
.ax { font-size: 11px; fill: #57606a }
.tl { font-size: 11px; fill: #9a6700 }
.val { font-size: 11px }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="20" y="26" font-size="17" font-weight="bold" fill="#24292f">${esc(input.title)}</text>
<text x="20" y="46" font-size="12" fill="#57606a">${esc(input.subtitle)}</text>
${panel(70, 'Wall time (median; whiskers: min-max)', 'seconds', wall, input.wallTargets, maxN)}
${panel(560, 'Peak memory (median; whiskers: min-max)', 'MB (maxRSS)', rss, input.rssTargets, maxN)}
</svg>
`;
}
