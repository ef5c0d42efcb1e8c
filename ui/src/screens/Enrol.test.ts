import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { AppStatus } from "../bindings";
import { session } from "../lib/session.svelte";
import Enrol from "./Enrol.svelte";

afterEach(() => {
  cleanup();
  clearMocks();
  session.enrolDraft = null;
});

const status: AppStatus = {
  enrolled: true,
  server: "https://relay.contoso.example",
  person: "Alex Martin",
  organisation: "Contoso",
  signed_in: true,
  signed_out_reason: null,
  synced: true,
  online: true,
  items: 3,
  unread: 3,
  queued_shares: 0,
  failed_shares: 0,
};

const keychainDown = { code: "keychain", detail: "Couldn't access platform storage" };

describe("the sign-in screen opened by an enrolment link", () => {
  it("asks a failing keychain again and then signs in", async () => {
    let enrolCalls = 0;
    mockIPC((cmd) => {
      if (cmd === "enrol") {
        enrolCalls++;
        if (enrolCalls < 3) throw keychainDown;
        return status;
      }
      if (cmd === "first_sync") return status;
      if (cmd === "plugin:event|listen") return 1;
      if (cmd === "plugin:event|unlisten") return null;
      throw new Error(`unexpected command ${cmd}`);
    });
    let done = false;
    render(Enrol, {
      server: "https://relay.contoso.example",
      code: "AAAA-BBBB-CCCC-DDDD",
      onDone: () => (done = true),
      keychainRetryMs: 5,
    });
    await waitFor(() => expect(done).toBe(true));
    expect(enrolCalls).toBe(3);
    expect(session.enrolDraft).toBeNull();
  });

  it("keeps what the link filled in when the keychain stays down", async () => {
    mockIPC((cmd) => {
      if (cmd === "enrol") throw keychainDown;
      throw new Error(`unexpected command ${cmd}`);
    });
    render(Enrol, {
      server: "https://relay.contoso.example",
      code: "AAAA-BBBB-CCCC-DDDD",
      onDone: () => {},
      keychainRetryMs: 5,
    });
    const shown = await screen.findByTestId("enrol-error");
    expect(shown.textContent).toContain("keychain");
    expect((screen.getByTestId("enrol-server") as HTMLInputElement).value).toBe("https://relay.contoso.example");
    expect((screen.getByTestId("enrol-code") as HTMLInputElement).value).toBe("AAAA-BBBB-CCCC-DDDD");

    // Shown again without the link (the screen was rebuilt): the fields are still filled.
    cleanup();
    render(Enrol, { onDone: () => {}, keychainRetryMs: 5 });
    expect((screen.getByTestId("enrol-server") as HTMLInputElement).value).toBe("https://relay.contoso.example");
    expect((screen.getByTestId("enrol-code") as HTMLInputElement).value).toBe("AAAA-BBBB-CCCC-DDDD");
  });
});
