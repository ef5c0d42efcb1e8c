// What the whole UI shares: the device's status, refreshed on the engine's events.
import type { AppStatus } from "../bindings";
import { commands, ok } from "./api";

export const session = $state<{ status: AppStatus | null; feedVersion: number; outboxVersion: number }>({
  status: null,
  feedVersion: 0,
  outboxVersion: 0,
});

export async function refreshStatus() {
  try {
    session.status = await ok(commands.status());
  } catch (e) {
    console.error(e);
  }
}
