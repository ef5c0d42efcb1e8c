// Plain SVG charts: a line per series over months, and horizontal bars. No chart library: the
// shapes are few and their geometry is computed here (and unit-tested).

export interface Series {
  name: string;
  values: (number | null)[];
}

export interface LinePath {
  name: string;
  // Points that have a value; a hidden month (null) breaks the line.
  points: { x: number; y: number; value: number; index: number }[];
  d: string;
}

export function lines(series: Series[], width: number, height: number, pad = 28): { paths: LinePath[]; max: number } {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = Math.max(1, ...all);
  const count = Math.max(1, ...series.map((s) => s.values.length));
  const x = (i: number) => pad + (count === 1 ? 0 : (i * (width - 2 * pad)) / (count - 1));
  const y = (v: number) => height - pad - (v / max) * (height - 2 * pad);
  const paths = series.map((s) => {
    const points = s.values.flatMap((v, index) => (v === null ? [] : [{ x: x(index), y: y(v), value: v, index }]));
    let d = "";
    let previous = -2;
    for (const p of points) {
      d += `${p.index === previous + 1 ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)} `;
      previous = p.index;
    }
    return { name: s.name, points, d: d.trim() };
  });
  return { paths, max };
}

export interface Bar {
  label: string;
  value: number;
  width: number;
}

export function bars(items: { label: string; value: number }[], width: number): Bar[] {
  const max = Math.max(1, ...items.map((i) => i.value));
  return items.map((i) => ({ ...i, width: (i.value / max) * width }));
}
