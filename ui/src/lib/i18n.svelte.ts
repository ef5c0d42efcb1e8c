// The UI's language: the system's unless chosen in Settings. Every string comes from a catalogue.
import { en, type MessageKey } from "./i18n/en";
import { fr } from "./i18n/fr";

export type Lang = "en" | "fr";
const catalogues = { en, fr };

// The shell tells the system's language (the webview's own guess depends on installed locales).
let system: Lang = (navigator.language || "en").toLowerCase().startsWith("fr") ? "fr" : "en";

export const locale = $state<{ lang: Lang }>({ lang: system });

export function setLang(choice: "system" | Lang, systemLanguage?: string) {
  if (systemLanguage === "en" || systemLanguage === "fr") system = systemLanguage;
  locale.lang = choice === "system" ? system : choice;
  document.documentElement.lang = locale.lang;
}

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const text: string = catalogues[locale.lang][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}

// Intl objects are costly to build (a feed page would build fifty): one per language and kind.
const formatters = new Map<string, Intl.DateTimeFormat | Intl.PluralRules>();
function cached<T extends Intl.DateTimeFormat | Intl.PluralRules>(kind: string, make: (lang: Lang) => T): T {
  const key = `${locale.lang}:${kind}`;
  let f = formatters.get(key);
  if (!f) {
    f = make(locale.lang);
    formatters.set(key, f);
  }
  return f as T;
}

// Plural forms: `tn("feed.results", 3)` reads `feed.results_one` or `feed.results_other`.
export function tn(base: string, n: number, params: Record<string, string | number> = {}): string {
  const rule = cached("plural", (l) => new Intl.PluralRules(l)).select(n) === "one" ? "one" : "other";
  return t(`${base}_${rule}` as MessageKey, { n, ...params });
}

// Ordinals: `ordinal(3)` is "3rd" in English, "3e" in French.
export function ordinal(n: number): string {
  const rule = cached("ordinal", (l) => new Intl.PluralRules(l, { type: "ordinal" })).select(n);
  const form = rule === "one" || rule === "two" || rule === "few" ? rule : "other";
  return t(`programme.ordinal_${form}` as MessageKey, { n });
}

export function formatDate(iso: string): string {
  return cached("date-time", (l) => new Intl.DateTimeFormat(l, { dateStyle: "medium", timeStyle: "short" })).format(
    new Date(iso),
  );
}

export function formatDay(iso: string): string {
  return cached("day", (l) => new Intl.DateTimeFormat(l, { dateStyle: "medium" })).format(new Date(iso));
}
