// Calls to the server's /v1 API with the browser's console session: the cookie goes by itself
// (same origin), every write carries the session's CSRF token, and refusals become ApiError
// with the server's own explanation.

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrf = "";
let onSignedOut: (reason: string) => void = () => {};

export function setCsrf(token: string) {
  csrf = token;
}

export function whenSignedOut(handler: (reason: string) => void) {
  onSignedOut = handler;
}

export async function api<T>(
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
  contentType = "application/json",
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    headers["Content-Type"] = contentType;
    payload = contentType === "application/json" ? JSON.stringify(body) : (body as string);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "offline", "The server cannot be reached.");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const data = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const problem = (data ?? {}) as { code?: string; detail?: string; title?: string };
    const error = new ApiError(
      response.status,
      problem.code ?? "error",
      problem.detail ?? problem.title ?? `HTTP ${response.status}`,
    );
    if (response.status === 401 && !path.startsWith("/v1/console/session")) onSignedOut(error.message);
    throw error;
  }
  return data as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
