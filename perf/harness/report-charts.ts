// The charts of `xdpnet perf --report`, drawn as SVG in the browser. drawCharts runs there: the
// report inlines its source (Function.prototype.toString), so it must use nothing from outside
// its own body, and it names the few DOM calls it makes in the interfaces below (this project
// compiles without the DOM library).

export interface ChartElement {
  setAttribute(name: string, value: string): void;
  appendChild(child: ChartElement): unknown;
  textContent: string | null;
}

export interface ChartDocument {
  getElementById(id: string): ChartElement | null;
  createElementNS(namespace: string, tag: string): ChartElement;
}

export interface ChartSeries {
  side: 'engine' | 'baseline';
  label: string;
  /** [x, y]: seconds and packets/s, or percentile (0..1) and microseconds. */
  points: [number, number][];
}

export interface ChartData {
  throughput: ChartSeries[];
  latency: ChartSeries[];
}

/**
 * Draws the throughput chart into <svg id="throughput"> and the latency chart into
 * <svg id="latency">. Each series becomes a <path class="series"> with data-side, data-label and
 * data-points (how many points it joins); each svg gets data-series (how many) and, once drawn,
 * data-rendered="true", which is what the report's test looks for.
 */
export function drawCharts(doc: ChartDocument, data: ChartData): void {
  const SVG = 'http://www.w3.org/2000/svg';
  const WIDTH = 760;
  const HEIGHT = 360;
  const MARGIN = { left: 80, right: 50, top: 20, bottom: 50 };
  const LEGEND_LINE = 16;
  const COLORS = { engine: '#1f63b4', baseline: '#e8730c' };
  const DASHES = ['', '6 4', '2 3', '10 3 2 3'];
  // The latency chart's x: log10(1 / (1 - p)), so 90%, 99%, 99.9% ... are evenly spaced.
  const MAX_NINES = 6;

  const el = (parent: ChartElement, tag: string, attrs: Record<string, string | number>) => {
    const node = doc.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    parent.appendChild(node);
    return node;
  };

  const text = (parent: ChartElement, x: number, y: number, s: string, anchor = 'middle') => {
    el(parent, 'text', { x, y, 'text-anchor': anchor, 'font-size': 12 }).textContent = s;
  };

  /** About five round tick values from lo up to the first at or past hi. */
  const ticks = (lo: number, hi: number): number[] => {
    const raw = (hi - lo) / 5 || 1;
    const unit = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * unit).find((s) => s >= raw) ?? raw;
    const out = [Math.floor(lo / step) * step];
    while (out[out.length - 1] < hi - step * 1e-9) out.push(out[out.length - 1] + step);
    return out;
  };

  const short = (v: number): string => {
    if (Math.abs(v) >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
    if (Math.abs(v) >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
    return `${+v.toFixed(2)}`;
  };

  const nines = (p: number) => Math.min(MAX_NINES, Math.log10(1 / Math.max(1 - p, 1e-12)));
  const percentLabel = (n: number) => (n === 0 ? '0%' : `${+(100 - 100 / 10 ** n).toFixed(4)}%`);

  interface Axes {
    xLabel: string;
    yLabel: string;
    xTicks: number[];
    xTickLabel: (v: number) => string;
    /** A log scale (latencies span decades), else linear from 0. */
    yLog: boolean;
  }

  /** Powers of ten around lo..hi. */
  const decades = (lo: number, hi: number): number[] => {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
    return out.length > 1 ? out : [out[0], out[0] * 10];
  };

  const chart = (id: string, series: ChartSeries[], axes: Axes, empty: string) => {
    const svg = doc.getElementById(id);
    if (!svg) return;
    svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
    svg.setAttribute('data-series', String(series.length));
    const all = series.flatMap((s) => s.points);
    if (all.length === 0) {
      text(svg, WIDTH / 2, HEIGHT / 2, empty);
      svg.setAttribute('data-rendered', 'true');
      return;
    }
    const xs = all.map((p) => p[0]).concat(axes.xTicks);
    const xMin = Math.min(...xs);
    const xMax = Math.max(...xs, xMin + 1e-9);
    const ys = all.map((p) => p[1]);
    const yTicks = axes.yLog
      ? decades(Math.max(Math.min(...ys), 1e-3), Math.max(...ys, 1e-3))
      : ticks(0, Math.max(...ys) * 1.05 || 1);
    const yLo = yTicks[0];
    const yHi = yTicks[yTicks.length - 1];
    const top = MARGIN.top + series.length * LEGEND_LINE;
    const plotW = WIDTH - MARGIN.left - MARGIN.right;
    const plotH = HEIGHT - top - MARGIN.bottom;
    const yShare = (y: number) =>
      axes.yLog
        ? (Math.log10(Math.max(y, yLo)) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))
        : y / yHi;
    const px = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotW;
    const py = (y: number) => top + plotH - yShare(y) * plotH;
    drawAxes(svg, axes, yTicks, top, px, py);
    for (const s of series) drawSeries(svg, s, series, px, py);
    drawLegend(svg, series);
    svg.setAttribute('data-rendered', 'true');
  };

  const drawAxes = (
    svg: ChartElement,
    axes: Axes,
    yTicks: number[],
    top: number,
    px: (x: number) => number,
    py: (y: number) => number,
  ) => {
    const bottom = HEIGHT - MARGIN.bottom;
    const right = WIDTH - MARGIN.right;
    el(svg, 'line', { x1: MARGIN.left, y1: bottom, x2: right, y2: bottom, stroke: '#333' });
    el(svg, 'line', { x1: MARGIN.left, y1: top, x2: MARGIN.left, y2: bottom, stroke: '#333' });
    for (const v of yTicks) {
      const y = py(v);
      el(svg, 'line', { x1: MARGIN.left, y1: y, x2: right, y2: y, stroke: '#ddd' });
      text(svg, MARGIN.left - 6, y + 4, short(v), 'end');
    }
    for (const v of axes.xTicks) {
      const x = px(v);
      el(svg, 'line', { x1: x, y1: bottom, x2: x, y2: bottom + 5, stroke: '#333' });
      text(svg, x, bottom + 18, axes.xTickLabel(v));
    }
    text(svg, MARGIN.left + (right - MARGIN.left) / 2, HEIGHT - 10, axes.xLabel);
    const middle = top + (bottom - top) / 2;
    const label = el(svg, 'text', {
      x: 14,
      y: middle,
      'text-anchor': 'middle',
      'font-size': 12,
      transform: `rotate(-90 14 ${middle})`,
    });
    label.textContent = axes.yLabel;
  };

  const dashOf = (s: ChartSeries, all: ChartSeries[]) => {
    const sameSide = all.filter((o) => o.side === s.side);
    return DASHES[sameSide.indexOf(s) % DASHES.length];
  };

  const drawSeries = (
    svg: ChartElement,
    s: ChartSeries,
    all: ChartSeries[],
    px: (x: number) => number,
    py: (y: number) => number,
  ) => {
    const d = s.points
      .map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`)
      .join(' ');
    el(svg, 'path', {
      class: 'series',
      d,
      fill: 'none',
      stroke: COLORS[s.side],
      'stroke-width': 2,
      'stroke-dasharray': dashOf(s, all),
      'data-side': s.side,
      'data-label': s.label,
      'data-points': s.points.length,
    });
  };

  const drawLegend = (svg: ChartElement, series: ChartSeries[]) => {
    // Above the plot, one row each, so no line runs under it.
    series.forEach((s, i) => {
      const y = MARGIN.top - 6 + i * LEGEND_LINE;
      const x = MARGIN.left + 10;
      el(svg, 'line', {
        x1: x,
        y1: y,
        x2: x + 24,
        y2: y,
        stroke: COLORS[s.side],
        'stroke-width': 2,
        'stroke-dasharray': dashOf(s, series),
      });
      text(svg, x + 30, y + 4, `${s.side}: ${s.label}`, 'start');
    });
  };

  const seconds = data.throughput.flatMap((s) => s.points.map((p) => p[0]));
  chart(
    'throughput',
    data.throughput,
    {
      xLabel: 'seconds since the phase began',
      yLabel: 'packets/s',
      xTicks: ticks(0, Math.max(1, ...seconds)),
      xTickLabel: (v) => `${+v.toFixed(2)}`,
      yLog: false,
    },
    'no progress samples',
  );
  const latency = data.latency.map((s) => ({
    ...s,
    points: s.points.map(([p, us]): [number, number] => [nines(p), us]),
  }));
  const deepest = Math.max(2, ...latency.flatMap((s) => s.points.map((p) => Math.ceil(p[0]))));
  chart(
    'latency',
    latency,
    {
      xLabel: 'percentile',
      yLabel: 'latency (us)',
      xTicks: Array.from({ length: deepest + 1 }, (_, n) => n),
      xTickLabel: percentLabel,
      yLog: true,
    },
    'this mode measures no latency',
  );
}
