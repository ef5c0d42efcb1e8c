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
