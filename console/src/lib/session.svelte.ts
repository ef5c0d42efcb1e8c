// The browser's console session: who is signed in, read from the server at start.
import { api, setCsrf, whenSignedOut } from "./api";
import type { ConsoleSession } from "./types";
import { go } from "./router.svelte";

export const session = $state<{ current: ConsoleSession | null; checked: boolean; ended: string }>({
  current: null,
  checked: false,
  ended: "",
});

function adopt(s: ConsoleSession | null) {
  session.current = s;
  setCsrf(s?.csrf_token ?? "");
}

whenSignedOut((reason) => {
  adopt(null);
  session.ended = reason;
  go("#/signin");
});

export async function load() {
  try {
    adopt(await api<ConsoleSession>("GET", "/v1/console/session"));
  } catch {
    adopt(null);
  }
  session.checked = true;
}

export async function signInWithLink(token: string) {
  adopt(await api<ConsoleSession>("POST", "/v1/console/session", { token }));
  session.ended = "";
}

export async function signOut() {
  try {
    await api("DELETE", "/v1/console/session");
  } finally {
    adopt(null);
    go("#/signin");
  }
}

export function isAdmin(): boolean {
  return session.current?.person.role === "admin";
}
