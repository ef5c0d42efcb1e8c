// Channels and sources by id, read once per screen that names them.
import { api } from "./api";
import type { Channel, Source } from "./types";
import { locale } from "./i18n.svelte";

export async function channels(): Promise<Channel[]> {
  return api<Channel[]>("GET", "/v1/channels");
}

export async function sources(): Promise<Source[]> {
  return api<Source[]>("GET", "/v1/sources");
}

export function channelName(list: Channel[], id: string): string {
  const c = list.find((c) => c.id === id);
  if (!c) return id;
  return c.names[locale.lang] ?? c.names.en ?? Object.values(c.names)[0] ?? c.slug;
}
