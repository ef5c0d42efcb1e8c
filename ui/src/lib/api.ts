// The typed commands, with errors thrown as `Failure` (shown translated by the screens).
import type { AppError, ErrorCode } from "../bindings";
import { t } from "./i18n.svelte";

export { commands, events } from "../bindings";

export class Failure extends Error {
  constructor(
    public code: ErrorCode,
    public detail: string,
  ) {
    super(detail);
  }
}

type Result<T> = { status: "ok"; data: T } | { status: "error"; error: AppError };

export async function ok<T>(call: Promise<Result<T>>): Promise<T> {
  const result = await call;
  if (result.status === "error") throw new Failure(result.error.code, result.error.detail);
  return result.data;
}

// A sentence for the person: the translated kind, then the engine's detail.
export function describe(e: unknown): string {
  if (e instanceof Failure) return `${t(`error.${e.code}`)} ${e.detail}`;
  return t("error.internal") + (e instanceof Error ? ` ${e.message}` : "");
}
