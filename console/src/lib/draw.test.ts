import { describe, expect, it } from "vitest";
import { canonical, chainInUse, digest, listHash, QUICKNET, roundTime, seedHash, unixSeconds, verify, type Pins } from "./draw";
import type { Draw } from "./types";
import recorded from "../../../crates/draw/tests/fixtures/draw-vector.json?raw";

// Written by `crates/draw`'s tests from a real recorded quicknet round (2023): the Rust check and
// this one must agree on it, and on what tampering breaks.
const vector: Draw = JSON.parse(recorded);
const copy = (): Draw => JSON.parse(JSON.stringify(vector));
// Seen by this browser while the list was fresh (after the freeze, before the round).
const seenFresh = Date.parse("2023-09-14T11:00:30Z");
const failed = async (d: Draw, pins: Pins = {}) =>
  (await verify(d, QUICKNET, pins, seenFresh))!.checks.filter((c) => !c.ok).map((c) => c.name);

describe("relay-draw-v1 in the browser", () => {
  it("verifies the draw the Rust code made, signature included", async () => {
    expect(await seedHash(vector.result!.seed)).toBe(vector.commitment!.seed_hash);
    expect(await listHash(vector.entries!.entries)).toBe(vector.entries!.list_hash);
    expect(await digest(vector.month, vector.commitment!)).toBe(vector.commitment!.digest);
    const v = (await verify(vector, QUICKNET, {}, seenFresh))!;
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
    expect(v.checks.map((c) => c.name)).toEqual([
      "algorithm", "chain", "commitment", "prizes", "times", "list", "pinned",
      "round", "signature", "randomness", "seed", "winners",
    ]);
    expect(v.stage).toBe("drawn");
    expect(v.witness).toBe("before_round");
    expect(vector.result!.winners).toHaveLength(3);
  });

  it("computes times from quicknet's genesis and period, not the server's word", () => {
    expect(roundTime(QUICKNET, 1)).toBe(QUICKNET.genesis);
    expect(roundTime(QUICKNET, 657413)).toBe(1694775603);
    expect(unixSeconds("2023-09-14T11:00:00.999999999Z")).toBe(1694689200);
    expect(chainInUse()).toEqual(QUICKNET);
  });

  it("writes the documented canonical text", () => {
    expect(canonical(vector.month, vector.commitment!)).toBe(
      "relay-draw-v1 commitment\nmonth 2023-08\nseed_hash 4bb06f8e4e3a7715d201d573d0aa423762e55dabd61a2c02278fa56cc6d294e0\n" +
        "chain 52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971\nround 657413\ncloses_at 1694689200\n" +
        "eligibility top_points 50\nprize 1 Phone\nprize 2 Team outing\n",
    );
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
    expect(await failed(round)).toEqual(["round", "signature", "winners"]);

    const randomness = copy();
    randomness.result!.beacon.randomness = "00".repeat(32);
    expect(await failed(randomness)).toEqual(["randomness"]);
  });

  it("refuses a forged beacon signature, even one byte long", async () => {
    const short = copy();
    short.result!.beacon.signature = "00";
    short.result!.beacon.randomness = null;
    expect(await failed(short)).toEqual(["signature", "winners"]);
    const flipped = copy();
    const sig = flipped.result!.beacon.signature;
    flipped.result!.beacon.signature = sig.slice(0, -2) + (sig.endsWith("00") ? "01" : "00");
    flipped.result!.beacon.randomness = null;
    expect(await failed(flipped)).toContain("signature");
  });

  it("refuses prizes or eligibility changed after the commitment, and a forged digest", async () => {
    const prizes = copy();
    prizes.setup!.prizes[0].name = "Car";
    expect(await failed(prizes)).toEqual(["prizes"]);
    const both = copy();
    both.commitment!.prizes[0].quantity = 2;
    expect(await failed(both)).toContain("commitment");
    const eligibility = copy();
    eligibility.commitment!.eligibility = { top_points: 5, min_verified_shares: null };
    expect(await failed(eligibility)).toEqual(["commitment", "prizes"]);
  });

  it("refuses times that do not hold: a list frozen once the round existed, a draw before it", async () => {
    const late = copy();
    late.entries!.frozen_at = late.commitment!.beacon_round_at;
    expect(await failed(late)).toEqual(["times"]);
    const early = copy();
    early.result!.drawn_at = "2023-09-15T11:00:00Z";
    expect(await failed(early)).toEqual(["times"]);
    const announced = copy();
    announced.commitment!.beacon_round_at = "2023-09-15T12:00:00Z";
    expect(await failed(announced)).toEqual(["times"]);
    const beforeEnd = copy();
    beforeEnd.commitment!.closes_at = "2023-08-30T00:00:00Z";
    expect(await failed(beforeEnd)).toContain("times");
    const pastRound = copy();
    pastRound.commitment!.committed_at = "2023-09-14T12:00:00Z";
    expect(await failed(pastRound)).toEqual(["times"]);
  });

  it("pins the first list seen and refuses a re-frozen one; says when the list was first seen", async () => {
    const frozen = copy();
    frozen.result = null;
    const first = (await verify(frozen, QUICKNET, {}, seenFresh))!;
    expect(first.stage).toBe("frozen");
    expect(first.witness).toBe("before_round");
    expect(first.pins.list?.value).toBe(vector.entries!.list_hash);
    // The operator re-freezes after the round with other ids and redraws: a record that verifies
    // on its own, refused here.
    const redrawn = copy();
    redrawn.entries!.entries = redrawn.entries!.entries.slice(1);
    redrawn.entries!.list_hash = await listHash(redrawn.entries!.entries);
    const later = Date.parse("2023-09-15T12:00:00Z");
    const v = (await verify(redrawn, QUICKNET, first.pins, later))!;
    expect(v.checks.filter((c) => !c.ok).map((c) => c.name)).toContain("pinned");
    expect(v.pins.list).toEqual(first.pins.list);
    // A browser that first sees a list after the round cannot vouch for its timing.
    expect((await verify(vector, QUICKNET, {}, later))!.witness).toBe("after_round");
  });

  it("checks its own entry is listed, and has nothing to check before the commitment", async () => {
    const mine = copy();
    mine.my_entry_id = "ffffffffffffffffffffffffffffffff";
    expect(await failed(mine)).toEqual(["mine"]);
    const before = copy();
    before.commitment = null;
    before.entries = null;
    before.result = null;
    expect(await verify(before)).toBeNull();
  });
});
