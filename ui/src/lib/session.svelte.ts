// What the whole UI shares: the device's status, refreshed on the engine's events.
import type { AppStatus } from "../bindings";
import { commands, ok } from "./api";

export const session = $state<{
  status: AppStatus | null;
  feedVersion: number;
  outboxVersion: number;
  programmeVersion: number;
  // What an enrolment link filled in, kept until the enrolment succeeds: the sign-in screen
  // may be shown again (a status change, a second link) and must not lose it.
  enrolDraft: { server: string; code: string } | null;
}>({
  status: null,
  feedVersion: 0,
  outboxVersion: 0,
  programmeVersion: 0,
  enrolDraft: null,
});

// The status as the device last knew it (no keychain round trip): the first screen paints from
// it, and refreshStatus() confirms it right after.
export async function loadLocalStatus() {
  try {
    session.status = await ok(commands.statusLocal());
  } catch (e) {
    console.error(e);
  }
}

export async function refreshStatus() {
  try {
    session.status = await ok(commands.status());
  } catch (e) {
    console.error(e);
  }
}
