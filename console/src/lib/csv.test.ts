import { describe, expect, it } from "vitest";
import { toCsv } from "./csv";

describe("CSV export", () => {
  it("quotes what needs quoting and leaves the rest", () => {
    expect(toCsv([["month", "shares"], ["2026-11", 22], ["a, b", null], ['say "hi"', 1]])).toBe(
      'month,shares\r\n2026-11,22\r\n"a, b",\r\n"say ""hi""",1',
    );
  });
  it("defuses formulas in text cells but not negative numbers", () => {
    expect(toCsv([["=HYPERLINK(1)", -3]])).toBe("'=HYPERLINK(1),-3");
  });
});
