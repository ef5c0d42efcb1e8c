// Times in the curator's own time zone: `<input type="datetime-local">` holds local wall time,
// the API speaks UTC.

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

// "2026-12-03T09:30" (local) from an ISO instant; "" for none.
export function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// The ISO instant of a local wall time; null for an empty field.
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

// "FR, BE" → ["FR", "BE"]: the audience's lists are typed as comma-separated codes.
export function list(value: string, upper: boolean): string[] {
  return value
    .split(/[,;\s]+/)
    .map((v) => v.trim())
    .filter(Boolean)
    .map((v) => (upper ? v.toUpperCase() : v.toLowerCase()));
}
