import { describe, expect, it } from "vitest";
import { bars, lines } from "./charts";

describe("charts", () => {
  it("draws a point per known month and breaks the line at hidden ones", () => {
    const { paths, max } = lines([{ name: "shares", values: [2, null, 4, 8] }], 100, 100, 0);
    expect(max).toBe(8);
    expect(paths[0].points.map((p) => p.index)).toEqual([0, 2, 3]);
    expect(paths[0].d.split(" ").map((s) => s[0])).toEqual(["M", "M", "L"]);
    expect(paths[0].points[2].y).toBe(0);
  });
  it("scales bars to the largest", () => {
    expect(bars([{ label: "a", value: 5 }, { label: "b", value: 10 }], 200).map((b) => b.width)).toEqual([100, 200]);
  });
});
