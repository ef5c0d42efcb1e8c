// The first screen, handed over by the shell with the page (`first_screen.rs`): the feed paints
// at the first render, with no round trip. Each part is taken once; later mounts ask the
// commands as usual.
import type { FirstScreen } from "../bindings";

declare global {
  interface Window {
    __RELAY_FIRST_SCREEN__?: FirstScreen;
  }
}

const first: Partial<FirstScreen> = window.__RELAY_FIRST_SCREEN__ ?? {};
delete window.__RELAY_FIRST_SCREEN__;

export function takeFirst<K extends keyof FirstScreen>(part: K): FirstScreen[K] | undefined {
  const value = first[part];
  delete first[part];
  return value;
}

// The desktop's font family as a CSS string (any quote or backslash in the name escaped), or
// nothing to keep `system-ui`.
export function uiFont(family: string | null | undefined): string | null {
  const name = family?.trim();
  if (!name) return null;
  return `"${name.replace(/["\\]/g, "\\$&").replace(/[\n\r\f]/g, " ")}"`;
}
