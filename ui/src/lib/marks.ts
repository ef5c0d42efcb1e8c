// Steps of the page's start, for the startup benchmark (the shell prints them only under
// `RELAY_BENCH`): where the time from launch to the first painted feed goes.
import type { PageMark } from "../bindings";

const marks: PageMark[] = [];

const at = (since: number) => performance.timeOrigin + since;

export function mark(step: string) {
  marks.push({ step, at: at(performance.now()) });
}

// The page's own steps with the browser's: its document's arrival and first paint.
export function startMarks(): PageMark[] {
  const browser: PageMark[] = [];
  const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
  if (nav) {
    browser.push({ step: "document requested", at: at(nav.fetchStart) });
    browser.push({ step: "document received", at: at(nav.responseEnd) });
    browser.push({ step: "document parsed", at: at(nav.domInteractive) });
  }
  for (const paint of performance.getEntriesByType("paint")) {
    browser.push({ step: paint.name, at: at(paint.startTime) });
  }
  return [...browser, ...marks].sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
}
