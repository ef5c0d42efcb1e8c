import { describe, expect, it } from "vitest";
import { listHash, seedHash, verify } from "./draw";
import type { Draw } from "./types";
import recorded from "../../../crates/draw/tests/fixtures/draw-vector.json?raw";

// Written by `crates/draw`'s tests from a real recorded quicknet round: the Rust check and this
// one must agree on it, and on what tampering breaks.
const vector: Draw = JSON.parse(recorded);
const copy = (): Draw => JSON.parse(JSON.stringify(vector));
const failed = async (d: Draw) => (await verify(d))!.filter((c) => !c.ok).map((c) => c.name);

describe("relay-draw-v1 in the browser", () => {
  it("verifies the draw the Rust code made", async () => {
    expect(await seedHash(vector.result!.seed)).toBe(vector.commitment!.seed_hash);
    expect(await listHash(vector.entries!.entries)).toBe(vector.entries!.list_hash);
    expect(await failed(vector)).toEqual([]);
    expect(vector.result!.winners).toHaveLength(3);
  });

  it("refuses a swapped winner, another seed, a changed list or round", async () => {
    const swapped = copy();
    const loser = swapped.entries!.entries.find((e) => !swapped.result!.winners.some((w) => w.entry_id === e))!;
    swapped.result!.winners[0].entry_id = loser;
    expect(await failed(swapped)).toEqual(["winners"]);

    const seed = copy();
    seed.result!.seed = "08".repeat(32);
    expect(await failed(seed)).toEqual(["seed", "winners"]);

    const list = copy();
    list.entries!.entries.pop();
    expect(await failed(list)).toContain("list");

    const round = copy();
    round.result!.beacon.round += 1;
    expect(await failed(round)).toEqual(["round"]);

    const randomness = copy();
    randomness.result!.beacon.randomness = "00".repeat(32);
    expect(await failed(randomness)).toEqual(["randomness"]);
  });

  it("has nothing to check before the draw", async () => {
    const before = copy();
    before.result = null;
    expect(await verify(before)).toBeNull();
  });
});
