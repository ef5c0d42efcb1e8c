// How analytics figures read: a hidden one says "fewer than 5"; groups by their names.
import type { Channel, Dimension } from "./types";
import { channelName } from "./lookups.svelte";
import { t, locale } from "./i18n.svelte";

export const number = (v: number | null) =>
  v === null ? t("analytics.fewer") : new Intl.NumberFormat(locale.lang).format(v);
export const percent = (v: number | null) =>
  v === null
    ? t("analytics.fewer")
    : new Intl.NumberFormat(locale.lang, { style: "percent", maximumFractionDigits: 1 }).format(v);
export const decimal = (v: number | null) =>
  v === null ? t("analytics.fewer") : new Intl.NumberFormat(locale.lang, { maximumFractionDigits: 2 }).format(v);

export function groupLabel(by: Dimension, key: string, channels: Channel[]): string {
  if (by === "channel") return channelName(channels, key);
  if (by === "network") return t(`network.${key}` as "network.x");
  return key || t("analytics.none");
}
