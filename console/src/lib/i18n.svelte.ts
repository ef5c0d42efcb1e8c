// The console's language: the browser's unless chosen in the header (kept in this browser).
import { en, type MessageKey } from "./i18n/en";
import { fr } from "./i18n/fr";

export type Lang = "en" | "fr";
const catalogues: Record<Lang, Record<MessageKey, string>> = { en, fr };

function initial(): Lang {
  const saved = localStorage.getItem("relay-console-lang");
  if (saved === "en" || saved === "fr") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("fr") ? "fr" : "en";
}

export const locale = $state<{ lang: Lang }>({ lang: initial() });
document.documentElement.lang = locale.lang;

export function setLang(lang: Lang) {
  locale.lang = lang;
  localStorage.setItem("relay-console-lang", lang);
  document.documentElement.lang = lang;
}

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const text: string = catalogues[locale.lang][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}

export function formatDate(iso: string | null): string {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(locale.lang, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}
