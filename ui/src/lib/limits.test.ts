import { describe, expect, it } from "vitest";
import { length, remaining, postedText } from "./limits";

const link = "https://contoso.example/news/a-very-long-path-that-is-much-longer-than-23-characters";

describe("share length per network", () => {
  it("counts a link as 23 on X and Mastodon, whatever its length", () => {
    expect(length("x", "Hello", link)).toBe(5 + 1 + 23);
    expect(length("mastodon", "Hello", link)).toBe(5 + 1 + 23);
    expect(length("x", `Read ${link} now`, link)).toBe(5 + 23 + 4);
  });

  it("counts Bluesky in graphemes, without the link (it becomes a card)", () => {
    expect(length("bluesky", "👩‍👩‍👧 café", link)).toBe(6);
    expect(postedText("bluesky", "Hi", link)).toBe("Hi");
  });

  it("weighs emoji and CJK double on X", () => {
    expect(length("x", "日本", link)).toBe(4 + 1 + 23);
  });

  it("tells how much room is left, negative when over", () => {
    expect(remaining("x", "a".repeat(300), link)).toBe(280 - 300 - 1 - 23);
    expect(remaining("linkedin", "Hello", link)).toBe(3000 - 6 - link.length);
  });
});
