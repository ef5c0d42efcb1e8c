import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { MyShareView, ProgrammeScreen } from "../bindings";
import Programme from "./Programme.svelte";
import { setLang } from "../lib/i18n.svelte";

function programme(over: Partial<ProgrammeScreen> = {}): ProgrammeScreen {
  return {
    offline: false,
    fetched_at: "2026-12-03T09:00:00Z",
    month: "2026-12",
    closes_at: "2027-01-03T23:00:00Z",
    rules: { verified_share: 10, declared_share: 3, daily_cap: 5, click: 1, click_cap: 20, trust_attested: false },
    points: 23,
    all_time_points: 140,
    verified_shares: 2,
    declared_shares: 1,
    clicks: 0,
    rank: 3,
    ranked: 14,
    on_board: false,
    pseudonym: null,
    shares: [
      {
        item_id: "i1",
        title: "Our Paris region",
        network: "bluesky",
        status: "confirmed",
        status_reason: null,
        shared_at: "2026-12-02T10:00:00Z",
        points: 10,
        clicks: 0,
        unscored: null,
      },
    ],
    board: [],
    all_time_board: [],
    team_boards: true,
    teams_by_country: [],
    teams_by_department: [],
    top: [
      { rank: 1, item_id: "i1", title: "Our Paris region", verified_shares: 7, clicks: 12 },
      { rank: 2, item_id: "i2", title: "A team's news", verified_shares: null, clicks: null },
    ],
    ...over,
  };
}

afterEach(() => {
  cleanup();
  clearMocks();
  setLang("en");
});

describe("my activity", () => {
  it("shows my points and where I would rank, privately, and joins the leaderboard", async () => {
    setLang("en");
    const calls: unknown[] = [];
    let current = programme();
    mockIPC((cmd, args) => {
      if (cmd === "programme") return current;
      if (cmd === "draw") return { month: "2026-11", offline: false, prizes: [], top_points: null, min_verified_shares: null, seed_hash: null, beacon_round: null, beacon_round_at: null, entries: null, my_entry_id: null, opted_out: false, winners: [], verified: null, problem: null };
      if (cmd === "set_on_board") {
        calls.push(args);
        current = programme({
          on_board: true,
          pseudonym: "Blue Heron",
          board: [{ rank: 3, name: "Blue Heron", points: 23, you: true }],
        });
        return current;
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    render(Programme);
    expect((await screen.findByTestId("programme-points")).textContent).toBe("23");
    expect(screen.getByTestId("programme-rank").textContent).toContain("You would be 3rd of 14");
    expect(screen.getByTestId("board-empty")).toBeTruthy();
    expect(screen.getByTestId("top").textContent).toContain("Our Paris region");
    // An item shared by fewer than five people shows its rank and title, not its counts.
    expect(screen.getByTestId("top-few").textContent).toBe("shared by fewer than 5 people");

    await fireEvent.input(screen.getByTestId("pseudonym"), { target: { value: "Blue Heron" } });
    await fireEvent.click(screen.getByTestId("join-board"));
    await screen.findByTestId("on-board");
    expect(calls).toEqual([{ on: true, pseudonym: "Blue Heron" }]);
    expect(screen.getByTestId("programme-rank").textContent).toContain("You are 3rd of 14");
    const lines = screen.getAllByTestId("board-line");
    expect(lines).toHaveLength(1);
    expect(lines[0].textContent).toContain("Blue Heron · you");
    expect(screen.getByTestId("draw-none").textContent).toContain("No prize draw for November 2026");
  });

  it("reads the cache offline and says so, in French", async () => {
    setLang("fr");
    mockIPC((cmd) => {
      if (cmd === "programme") return programme({ offline: true, rank: 1, ranked: 2 });
      throw new Error(`unexpected command ${cmd}`);
    });
    render(Programme);
    await screen.findByTestId("programme-offline");
    expect(screen.getByTestId("programme-rank").textContent).toContain("Vous seriez 1er sur 2");
    expect((screen.getByTestId("join-board") as HTMLButtonElement).disabled).toBe(true);
  });

  it("shows where each share stands: being checked, confirmed, attested, declared, not counted; in English and French", async () => {
    const share = (status: MyShareView["status"], over: Partial<MyShareView> = {}): MyShareView => ({
      item_id: `i-${status}`,
      title: `Story ${status}`,
      network: status === "attested" ? "x" : "bluesky",
      status,
      status_reason: null,
      shared_at: "2026-12-02T10:00:00Z",
      points: status === "confirmed" ? 10 : status === "rejected" || status === "pending" ? 0 : 3,
      clicks: 0,
      unscored: null,
      ...over,
    });
    const shares = [
      share("pending"),
      share("confirmed"),
      share("attested"),
      share("declared"),
      share("rejected", { status_reason: "the post was deleted" }),
      share("declared", { item_id: "i-retracted", unscored: "retracted", points: 0 }),
    ];
    mockIPC((cmd) => {
      if (cmd === "programme") return programme({ shares });
      if (cmd === "draw") return null;
      throw new Error(`unexpected command ${cmd}`);
    });
    for (const [lang, words] of [
      ["en", ["being checked", "confirmed", "attested", "declared", "not counted", "declared"]],
      ["fr", ["en cours de vérification", "confirmé", "attesté", "déclaré", "non compté", "déclaré"]],
    ] as const) {
      setLang(lang);
      render(Programme);
      await screen.findAllByTestId("my-share");
      const statuses = screen.getAllByTestId("my-share-status");
      expect(statuses.map((s) => s.dataset.status)).toEqual(["pending", "confirmed", "attested", "declared", "rejected", "declared"]);
      expect(statuses.map((s) => s.textContent)).toEqual(words);
      const lines = screen.getAllByTestId("my-share").map((l) => l.textContent ?? "");
      expect(lines[0]).toContain(lang === "en" ? "its points come once it is confirmed" : "une fois confirmée");
      expect(screen.getByTestId("my-share-reason").textContent).toContain("the post was deleted");
      expect(lines[5]).toContain(lang === "en" ? "the content was withdrawn" : "le contenu a été retiré");
      cleanup();
    }
  });

  it("explains when the programme was never fetched", async () => {
    mockIPC((cmd) => {
      if (cmd === "programme") return null;
      throw new Error(`unexpected command ${cmd}`);
    });
    render(Programme);
    await waitFor(() => expect(screen.getByTestId("programme-unavailable")).toBeTruthy());
  });
});
