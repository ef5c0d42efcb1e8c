import { describe, expect, it } from "vitest";
import { fromLocalInput, list, toLocalInput } from "./time";

describe("local times", () => {
  it("round-trips an instant through the local field", () => {
    const iso = "2026-12-03T09:30:00.000Z";
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso);
  });
  it("reads an empty or broken field as no time", () => {
    expect(fromLocalInput("")).toBeNull();
    expect(fromLocalInput("tomorrow")).toBeNull();
    expect(toLocalInput(null)).toBe("");
  });
  it("splits audience lists and normalises their case", () => {
    expect(list(" fr, be;DE ", true)).toEqual(["FR", "BE", "DE"]);
    expect(list("EN FR", false)).toEqual(["en", "fr"]);
    expect(list("", true)).toEqual([]);
  });
});
