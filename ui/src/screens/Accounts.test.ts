import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { AccountView } from "../bindings";
import Accounts from "./Accounts.svelte";
import { session } from "../lib/session.svelte";

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("the accounts screen", () => {
  it("reconnects a Mastodon account on its own server", async () => {
    let account: AccountView = {
      id: "m1",
      network: "mastodon",
      handle: "@alex@social.example",
      status: "reconnect",
      char_limit: 500,
      server: "https://social.example",
    };
    const calls: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "connectable_networks") return ["bluesky", "mastodon"];
      if (cmd === "accounts") return [account];
      if (cmd === "connect_mastodon") {
        calls.push(args);
        account = { ...account, status: "connected" };
        return account;
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    render(Accounts);

    const row = await screen.findByTestId("account-row-mastodon");
    expect(row.textContent).toContain("Reconnect");
    await fireEvent.click(await screen.findByTestId("reconnect-mastodon"));
    await screen.findByTestId("accounts-notice");
    expect(calls).toEqual([{ instance: "https://social.example" }]);
    await waitFor(() => expect(screen.getByTestId("account-status").textContent?.trim()).toBe("Connected"));
    expect(screen.queryByTestId("reconnect-mastodon")).toBeNull();
  });

  it("shows an account that needs reconnecting when the outbox moves while it is open", async () => {
    let account: AccountView = {
      id: "m1",
      network: "mastodon",
      handle: "@alex@social.example",
      status: "connected",
      char_limit: 500,
      server: "https://social.example",
    };
    mockIPC((cmd) => {
      if (cmd === "connectable_networks") return ["bluesky", "mastodon"];
      if (cmd === "accounts") return [account];
      throw new Error(`unexpected command ${cmd}`);
    });
    render(Accounts);
    await waitFor(() => expect(screen.getByTestId("account-status").textContent?.trim()).toBe("Connected"));
    // A share meets a revoked sign-in: the engine marks the account and the outbox moves.
    account = { ...account, status: "reconnect" };
    session.outboxVersion++;
    await screen.findByTestId("reconnect-mastodon");
  });
});
