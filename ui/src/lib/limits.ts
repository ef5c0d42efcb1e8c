// How long a share is, as each network counts it, against its limit. The device checks again
// before sending; this is the live count in the composer, and in the console's editor (which
// imports this file: one set of counting rules for both).

// The app's `NetworkKind` (bindings.ts), spelt out so the console needs no Tauri bindings.
export type NetworkKind = "linkedin" | "x" | "mastodon" | "bluesky" | "facebook";

export const LIMITS: Record<NetworkKind, number> = {
  x: 280,
  bluesky: 300,
  mastodon: 500,
  linkedin: 3000,
  facebook: 63206,
};

// X and Mastodon count every link as 23 characters, whatever its length.
const LINK_WEIGHT = 23;
const URL_RE = /\bhttps?:\/\/[^\s<>"]+/giu;

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

export function graphemes(text: string): number {
  let n = 0;
  for (const _ of segmenter.segment(text)) n++;
  return n;
}

// X weighs CJK characters and emoji double (twitter-text's weighting, simplified to ranges).
function xWeight(segment: string): number {
  const cp = segment.codePointAt(0) ?? 0;
  const light =
    cp <= 0x10ff ||
    (cp >= 0x2000 && cp <= 0x200d) ||
    (cp >= 0x2010 && cp <= 0x201f) ||
    (cp >= 0x2032 && cp <= 0x2037);
  return light ? 1 : 2;
}

function withLinks(text: string, perSegment: (s: string) => number): number {
  let total = 0;
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    total += countSegments(text.slice(last, m.index), perSegment) + LINK_WEIGHT;
    last = (m.index ?? 0) + m[0].length;
  }
  return total + countSegments(text.slice(last), perSegment);
}

function countSegments(text: string, perSegment: (s: string) => number): number {
  let n = 0;
  for (const { segment } of segmenter.segment(text)) n += perSegment(segment);
  return n;
}

// The text as posted: the item's link goes after the text unless the text already carries it.
// Bluesky shows the link as a card instead.
export function postedText(network: NetworkKind, text: string, link: string): string {
  if (network === "bluesky" || network === "facebook" || text.includes(link)) return text;
  return text.trimEnd() + (text.trim() ? " " : "") + link;
}

export function length(network: NetworkKind, text: string, link: string): number {
  const posted = postedText(network, text, link);
  switch (network) {
    case "x":
      return withLinks(posted, xWeight);
    case "mastodon":
      return withLinks(posted, () => 1);
    case "bluesky":
      return graphemes(posted);
    case "linkedin":
    case "facebook":
      return [...posted].length;
  }
}

// An account's limit: its server's own where it sets one (Mastodon servers often allow more
// than 500), otherwise the network's.
export function limitOf(account: { network: NetworkKind; char_limit: number | null }): number {
  return account.char_limit ?? LIMITS[account.network];
}

export function remaining(network: NetworkKind, text: string, link: string, limit = LIMITS[network]): number {
  return limit - length(network, text, link);
}
