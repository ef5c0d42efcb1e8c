import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { AccountView, Article } from "../bindings";
import Composer from "./Composer.svelte";

const article: Article = {
  card: {
    id: "item-1",
    kind: "article",
    channel_id: "c1",
    title: "Our new Paris cloud region is open",
    summary: "",
    url: "https://news.contoso.example/en/paris-region",
    image: null,
    language: "en",
    published_at: "2026-11-20T10:00:00Z",
    read: true,
    saved: false,
  },
  body_html: "<p>Hello</p>",
  suggestions: [
    { network: "x", language: "fr", text: "Notre région cloud de Paris est ouverte !" },
    { network: "x", language: "en", text: "Our Paris cloud region is open!" },
  ],
};

function mockCommands(accounts: AccountView[], queued: unknown[]) {
  mockIPC((cmd, args) => {
    if (cmd === "accounts") return accounts;
    if (cmd === "intent_networks") return ["facebook"];
    if (cmd === "tracked_link") return "https://relay.contoso.example/l/Xy12AbCdEfGhIjKlMnOpQr";
    if (cmd === "queue_share") {
      queued.push(args);
      return [];
    }
    throw new Error(`unexpected command ${cmd}`);
  });
}

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("the share composer", () => {
  it("shows the tracked link it will share, or the original when asked", async () => {
    const queued: unknown[] = [];
    mockCommands([{ id: "b1", network: "bluesky", handle: "alex.test", status: "connected", char_limit: null, server: null }], queued);
    render(Composer, { article, onClose: () => {} });
    const link = await screen.findByTestId("link-bluesky");
    await screen.findByText(/relay\.contoso\.example\/l\/Xy12/);
    expect(link.textContent).toContain("https://relay.contoso.example/l/Xy12AbCdEfGhIjKlMnOpQr");
    await fireEvent.click(screen.getByTestId("share-original-link"));
    expect(screen.queryByTestId("link-bluesky")).toBeNull();
    await fireEvent.click(screen.getByTestId("share-submit"));
    await screen.findByTestId("share-queued");
    expect(queued).toEqual([
      {
        request: {
          item_id: "item-1",
          drafts: [{ account_id: "b1", text: "Our new Paris cloud region is open" }],
          scheduled_at: null,
          original_link: true,
        },
      },
    ]);
  });

  it("says the link is added at sending when the server cannot be reached", async () => {
    mockIPC((cmd) => {
      if (cmd === "accounts") return [{ id: "b1", network: "bluesky", handle: "alex.test", status: "connected", char_limit: null, server: null }];
      if (cmd === "intent_networks") return [];
      if (cmd === "tracked_link") throw { code: "offline", message: "cannot reach the server" };
      throw new Error(`unexpected command ${cmd}`);
    });
    render(Composer, { article, onClose: () => {} });
    const link = await screen.findByTestId("link-bluesky");
    expect(link.textContent).toContain("added when the share goes out");
  });

  it("starts from the suggestion in the reader's language and counts as X does", async () => {
    const queued: unknown[] = [];
    mockCommands([{ id: "a1", network: "x", handle: "@alex", status: "connected", char_limit: null, server: null }], queued);
    render(Composer, { article, onClose: () => {} });

    const text = (await screen.findByTestId("text-x")) as HTMLTextAreaElement;
    expect(text.value).toBe("Our Paris cloud region is open!");
    // 31 characters, a space and the link counted as 23.
    expect(screen.getByTestId("count-x").textContent?.trim()).toBe("55 / 280");

    await fireEvent.input(text, { target: { value: "a".repeat(260) } });
    expect(screen.getByTestId("count-x").textContent?.trim()).toBe("284 / 280");
    expect((screen.getByTestId("share-submit") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByRole("alert").textContent).toContain("4 characters too long for X");

    await fireEvent.input(text, { target: { value: "My own words" } });
    const submit = screen.getByTestId("share-submit") as HTMLButtonElement;
    expect(submit.disabled).toBe(false);
    await fireEvent.click(submit);
    await screen.findByTestId("share-queued");
    expect(queued).toEqual([
      {
        request: {
          item_id: "item-1",
          drafts: [{ account_id: "a1", text: "My own words" }],
          scheduled_at: null,
          original_link: false,
        },
      },
    ]);
  });

  it("counts a Mastodon account against its own server's limit", async () => {
    mockCommands(
      [
        { id: "m1", network: "mastodon", handle: "@alex@big.example", status: "connected", char_limit: 5000, server: "https://big.example" },
        { id: "m2", network: "mastodon", handle: "@alex@small.example", status: "connected", char_limit: null, server: null },
      ],
      [],
    );
    render(Composer, { article, onClose: () => {} });
    const [bigBox, smallBox] = await screen.findAllByTestId("account-mastodon");
    await fireEvent.click(bigBox);
    await fireEvent.click(smallBox);
    const drafts = (await screen.findAllByTestId("text-mastodon")) as HTMLTextAreaElement[];
    expect(drafts).toHaveLength(2);
    const [big, small] = drafts;
    await fireEvent.input(big, { target: { value: "a".repeat(600) } });
    await fireEvent.input(small, { target: { value: "a".repeat(600) } });
    const [bigCount, smallCount] = screen.getAllByTestId("count-mastodon");
    // 600 characters, a space and the link counted as 23.
    expect(bigCount.textContent?.trim()).toBe("624 / 5000");
    expect(smallCount.textContent?.trim()).toBe("624 / 500");
    // Only the server with Mastodon's default limit refuses it.
    const alerts = screen.getAllByRole("alert").map((a) => a.textContent);
    expect(alerts).toEqual([expect.stringContaining("124 characters too long for Mastodon")]);
  });

  it("shares on Facebook's own page and records it once the person confirms", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "accounts") return [];
      if (cmd === "intent_networks") return ["facebook", "x"];
      if (cmd === "open_share_intent" || cmd === "confirm_shared") {
        calls.push({ cmd, args });
        return cmd === "confirm_shared" ? {} : null;
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    render(Composer, { article, onClose: () => {} });
    await fireEvent.click(await screen.findByTestId("intent-facebook"));
    await screen.findByText("Did you post it on Facebook?");
    expect(calls.map((c) => c.cmd)).toEqual(["open_share_intent"]);
    await fireEvent.click(screen.getByTestId("intent-yes"));
    expect((await screen.findByTestId("intent-recorded")).textContent).toContain("Facebook");
    expect(calls).toEqual([
      { cmd: "open_share_intent", args: { itemId: "item-1", network: "facebook", text: article.card.title } },
      { cmd: "confirm_shared", args: { itemId: "item-1", network: "facebook", text: article.card.title } },
    ]);
  });

  it("asks for an account when none is connected", async () => {
    mockCommands([], []);
    render(Composer, { article, onClose: () => {} });
    expect(await screen.findByText("Connect an account first to share from Relay.")).toBeTruthy();
  });
});
