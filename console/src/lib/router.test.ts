import { describe, expect, it } from "vitest";
import { parse } from "./router.svelte";

describe("console routes", () => {
  it("reads screens and their arguments from the fragment", () => {
    expect(parse("#/edit/abc%2F1")).toEqual({ screen: "edit", id: "abc/1" });
    expect(parse("#/new")).toEqual({ screen: "edit", id: null });
    expect(parse("#/person/p1")).toEqual({ screen: "person", id: "p1" });
    expect(parse("#/audit?subject=x")).toEqual({ screen: "audit", subject: "x" });
    expect(parse("#/signin/rlc_tok")).toEqual({ screen: "signin", token: "rlc_tok", error: "" });
    expect(parse("#/signin?error=no%20account")).toEqual({ screen: "signin", token: "", error: "no account" });
  });
  it("sends anything unknown to the inbox", () => {
    expect(parse("")).toEqual({ screen: "inbox" });
    expect(parse("#/nowhere/else")).toEqual({ screen: "inbox" });
  });
});
