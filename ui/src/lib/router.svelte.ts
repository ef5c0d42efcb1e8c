// Screens by route string: `feed`, `item/<id>`, `queue`, `programme`, `accounts`, `settings`, `about`,
// `enrol?server=..&code=..`. The same strings come from links and notifications.
export type Route =
  | { screen: "feed" }
  | { screen: "item"; id: string; share: boolean }
  | { screen: "queue" }
  | { screen: "programme" }
  | { screen: "accounts" }
  | { screen: "settings" }
  | { screen: "about" }
  | { screen: "enrol"; server: string; code: string };

export function parse(route: string): Route {
  const [path, query = ""] = route.replace(/^\/+/, "").split("?", 2);
  const [head, arg] = path.split("/", 2);
  const params = new URLSearchParams(query);
  switch (head) {
    case "item":
      return arg ? { screen: "item", id: decodeURIComponent(arg), share: params.has("share") } : { screen: "feed" };
    case "queue":
    case "programme":
    case "accounts":
    case "settings":
    case "about":
      return { screen: head };
    case "enrol":
      return { screen: "enrol", server: params.get("server") ?? "", code: params.get("code") ?? "" };
    default:
      return { screen: "feed" };
  }
}

export const nav = $state<{ route: Route; history: Route[] }>({ route: { screen: "feed" }, history: [] });

export function go(route: Route | string) {
  const next = typeof route === "string" ? parse(route) : route;
  nav.history.push(nav.route);
  nav.route = next;
  window.scrollTo(0, 0);
}

export function back() {
  nav.route = nav.history.pop() ?? { screen: "feed" };
}
