import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { DrawScreen } from "../bindings";
import Draw from "./Draw.svelte";
import { setLang } from "../lib/i18n.svelte";

function drawn(over: Partial<DrawScreen> = {}): DrawScreen {
  return {
    month: "2026-11",
    offline: false,
    prizes: [{ name: "Tablet", quantity: 1 }],
    top_points: null,
    min_verified_shares: 2,
    seed_hash: "ab".repeat(32),
    beacon_round: 657413,
    beacon_round_at: "2026-12-04T00:00:03Z",
    entries: 12,
    my_entry_id: "0f".repeat(16),
    opted_out: false,
    winners: [{ prize: "Tablet", name: "Blue Heron", entry_id: "0f".repeat(16), you: true }],
    verified: true,
    problem: null,
    closes_at: "2026-12-03T23:00:00Z",
    digest: "cd".repeat(32),
    witness: "before_round",
    commitment_seen_at: "2026-11-20T09:00:00Z",
    list_seen_at: "2026-12-03T23:00:05Z",
    ...over,
  };
}

afterEach(() => {
  cleanup();
  clearMocks();
  setLang("en");
});

describe("the prize draw", () => {
  it("shows last month's draw verified on this device, with my entry", async () => {
    setLang("en");
    const asked: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "draw") {
        asked.push(args);
        return drawn();
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    render(Draw, { currentMonth: "2026-12" });
    await screen.findByTestId("draw-verified");
    expect(asked).toEqual([{ month: "2026-11" }]);
    expect(screen.getByTestId("draw-my-entry").textContent).toContain("0f0f");
    expect(screen.getByTestId("draw-winners").textContent).toContain("Tablet: Blue Heron · you");
    expect(screen.getByTestId("draw-witness").textContent).toContain("before the beacon round existed");
  });

  it("says when this device saw the list only after the round, and refuses a changed list before the draw", async () => {
    mockIPC((cmd) => {
      if (cmd === "draw") return drawn({ witness: "after_round" });
      throw new Error(`unexpected command ${cmd}`);
    });
    render(Draw, { currentMonth: "2026-12" });
    expect((await screen.findByTestId("draw-witness")).dataset.witness).toBe("after_round");
    expect(screen.getByTestId("draw-witness").textContent).toContain("cannot vouch");
    cleanup();
    clearMocks();
    mockIPC((cmd) => {
      if (cmd === "draw")
        return drawn({
          winners: [],
          verified: null,
          problem: "the entry list changed since this device first saw it on 2026-12-03 23:00:05 UTC",
        });
      throw new Error(`unexpected command ${cmd}`);
    });
    render(Draw, { currentMonth: "2026-12" });
    expect((await screen.findByTestId("draw-not-verified")).textContent).toContain("entry list changed");
  });

  it("says loudly when a draw does not verify", async () => {
    mockIPC((cmd) => {
      if (cmd === "draw") return drawn({ verified: false, problem: "the entry list does not match its published hash" });
      throw new Error(`unexpected command ${cmd}`);
    });
    render(Draw, { currentMonth: "2026-12" });
    const alert = await screen.findByTestId("draw-not-verified");
    expect(alert.textContent).toContain("does not match its published hash");
  });

  it("lets me leave this month's draw before it is frozen, in French", async () => {
    setLang("fr");
    const calls: unknown[] = [];
    mockIPC((cmd, args) => {
      const open = drawn({ month: "2026-12", entries: null, my_entry_id: null, winners: [], verified: null, witness: "not_frozen", list_seen_at: null });
      if (cmd === "draw") return open;
      if (cmd === "set_draw_opt_out") {
        calls.push(args);
        return { ...open, opted_out: true };
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    render(Draw, { currentMonth: "2026-12" });
    await fireEvent.click(await screen.findByTestId("draw-month-2026-12"));
    const box = (await screen.findByTestId("draw-opt-out")) as HTMLInputElement;
    expect(screen.getByText(/au moins 2 partages vérifiés/)).toBeTruthy();
    expect(screen.getByTestId("draw-closes").textContent).toContain("closent");
    await fireEvent.click(box);
    expect(calls).toEqual([{ month: "2026-12", optedOut: true }]);
  });
});
