import { describe, expect, it, vi } from "vitest";

describe("the first screen handed over with the page", () => {
  it("gives each part once, then leaves later mounts to the commands", async () => {
    vi.resetModules();
    window.__RELAY_FIRST_SCREEN__ = {
      settings: {
        language: "fr",
        system_language: "en",
        notifications_paused_until: null,
        start_at_login: false,
        start_at_login_available: true,
      },
      status: null as never,
      channels: [],
      feed: [],
      ui_font: "Cantarell",
    };
    const { takeFirst } = await import("./first-screen");
    expect(window.__RELAY_FIRST_SCREEN__).toBeUndefined();
    expect(takeFirst("settings")?.language).toBe("fr");
    expect(takeFirst("settings")).toBeUndefined();
    expect(takeFirst("feed")).toEqual([]);
    expect(takeFirst("feed")).toBeUndefined();
  });

  it("gives nothing when the shell handed nothing over", async () => {
    vi.resetModules();
    delete window.__RELAY_FIRST_SCREEN__;
    const { takeFirst } = await import("./first-screen");
    expect(takeFirst("feed")).toBeUndefined();
    expect(takeFirst("status")).toBeUndefined();
  });

  it("names the desktop's font as one CSS string, whatever its name holds", async () => {
    const { uiFont } = await import("./first-screen");
    expect(uiFont("Cantarell")).toBe('"Cantarell"');
    expect(uiFont(" Noto Sans ")).toBe('"Noto Sans"');
    // A name cannot close the string and add families or declarations of its own.
    expect(uiFont('Evil"; color: red; x: "\\')).toBe('"Evil\\"; color: red; x: \\"\\\\"');
    expect(uiFont("Two\nLines")).toBe('"Two Lines"');
    for (const none of [null, undefined, "", "   "]) expect(uiFont(none)).toBeNull();
    const root = document.createElement("div");
    root.style.setProperty("--ui-font", uiFont('Evil"; color: red')!);
    expect(root.style.getPropertyValue("color")).toBe("");
  });
});
