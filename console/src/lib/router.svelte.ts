// Screens by the URL's fragment (`#/inbox`, `#/edit/<id>`...): links and the back button work,
// and the server serves one page.
export type Route =
  | { screen: "inbox" }
  | { screen: "edit"; id: string | null }
  | { screen: "published" }
  | { screen: "channels" }
  | { screen: "sources" }
  | { screen: "audit"; subject: string }
  | { screen: "people" }
  | { screen: "settings" }
  | { screen: "analytics"; month: string }
  | { screen: "report"; month: string }
  | { screen: "draw"; month: string }
  | { screen: "person"; id: string }
  | { screen: "signin"; token: string; error: string };

export function parse(hash: string): Route {
  const [path, query = ""] = hash.replace(/^#?\/*/, "").split("?", 2);
  const [head, arg = ""] = path.split("/", 2);
  const params = new URLSearchParams(query);
  const id = decodeURIComponent(arg);
  switch (head) {
    case "edit":
      return { screen: "edit", id: id || null };
    case "new":
      return { screen: "edit", id: null };
    case "published":
    case "channels":
    case "sources":
    case "people":
    case "settings":
      return { screen: head };
    case "analytics":
      return { screen: "analytics", month: /^\d{4}-\d{2}$/.test(id) ? id : "" };
    case "draw":
      return { screen: "draw", month: /^\d{4}-\d{2}$/.test(id) ? id : "" };
    case "report":
      return /^\d{4}-\d{2}$/.test(id) ? { screen: "report", month: id } : { screen: "analytics", month: "" };
    case "person":
      return id ? { screen: "person", id } : { screen: "people" };
    case "audit":
      return { screen: "audit", subject: params.get("subject") ?? "" };
    case "signin":
      return { screen: "signin", token: id, error: params.get("error") ?? "" };
    default:
      return { screen: "inbox" };
  }
}

export const router = $state<{ route: Route }>({ route: parse(location.hash) });

window.addEventListener("hashchange", () => {
  router.route = parse(location.hash);
});

export function go(hash: string) {
  if (location.hash === hash) router.route = parse(hash);
  else location.hash = hash;
}
