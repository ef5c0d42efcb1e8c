import { describe, expect, it } from "vitest";
import { parse } from "./router.svelte";

describe("routes from links and notifications", () => {
  it("opens an item", () => {
    expect(parse("item/0190-ab")).toEqual({ screen: "item", id: "0190-ab", share: false });
  });
  it("carries an enrolment", () => {
    expect(parse("enrol?server=http%3A%2F%2F127.0.0.1%3A8080&code=AB-CD")).toEqual({
      screen: "enrol",
      server: "http://127.0.0.1:8080",
      code: "AB-CD",
    });
  });
  it("opens my activity", () => {
    expect(parse("programme")).toEqual({ screen: "programme" });
  });
  it("falls back to the feed", () => {
    expect(parse("nonsense")).toEqual({ screen: "feed" });
    expect(parse("item/")).toEqual({ screen: "feed" });
  });
});
