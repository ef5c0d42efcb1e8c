// The prize draw's check (relay-draw-v1), in the browser: the same steps as `crates/draw`, which
// every employee's app runs. The seed must hash to the commitment, the entry list to its
// published hash, the randomness must be the SHA-256 of the beacon's signature, and the winners
// must be the ones the algorithm picks from these. (The beacon signature's BLS check against
// drand's key is the server's and the apps'; the console names it.)
import type { Draw } from "./types";

export const ALGORITHM = "relay-draw-v1";

export type CheckName = "algorithm" | "seed" | "list" | "round" | "randomness" | "winners";
export interface Check { name: CheckName; ok: boolean }

const encoder = new TextEncoder();

export function fromHex(hex: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error("not hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
}

export async function seedHash(seedHex: string): Promise<string> {
  return toHex(await sha256(fromHex(seedHex)));
}

export async function listHash(entries: string[]): Promise<string> {
  return toHex(await sha256(...entries.map((e) => encoder.encode(`${e}\n`))));
}

// One entry per prize (each prize repeated by its quantity), without replacement, with no
// modulo bias: see `crates/draw/src/pick.rs`.
export async function pick(seedHex: string, randomnessHex: string, entries: string[], slots: string[]): Promise<[string, string][]> {
  const list = fromHex(await listHash(entries));
  const key = await sha256(encoder.encode(`${ALGORITHM}\n`), fromHex(seedHex), fromHex(randomnessHex), list);
  const remaining = [...entries];
  const winners: [string, string][] = [];
  const max = (1n << 64n) - 1n;
  for (let k = 0; k < slots.length && remaining.length > 0; k++) {
    const n = BigInt(remaining.length);
    const zone = (max / n) * n;
    for (let c = 0; ; c++) {
      const h = await sha256(key, u32(k), u32(c));
      const x = new DataView(h.buffer).getBigUint64(0, false);
      if (x < zone) {
        winners.push([slots[k], remaining.splice(Number(x % n), 1)[0]]);
        break;
      }
    }
  }
  return winners;
}

// Every check of a drawn record, in order; `null` before the draw is made.
export async function verify(draw: Draw): Promise<Check[] | null> {
  const { setup, commitment, entries, result } = draw;
  if (!setup || !commitment || !entries || !result) return null;
  const checks: Check[] = [];
  checks.push({ name: "algorithm", ok: commitment.algorithm === ALGORITHM });
  let seedOk = false;
  try {
    seedOk = (await seedHash(result.seed)) === commitment.seed_hash;
  } catch {
    seedOk = false;
  }
  checks.push({ name: "seed", ok: seedOk });
  const sorted = entries.entries.every((e, i) => i === 0 || entries.entries[i - 1] < e);
  checks.push({ name: "list", ok: sorted && (await listHash(entries.entries)) === entries.list_hash });
  checks.push({ name: "round", ok: result.beacon.round === commitment.beacon_round });
  let randomness = "";
  try {
    randomness = toHex(await sha256(fromHex(result.beacon.signature)));
  } catch {
    randomness = "";
  }
  const published = result.beacon.randomness?.toLowerCase();
  checks.push({ name: "randomness", ok: randomness !== "" && (published === undefined || published === randomness) });
  let winnersOk = false;
  if (seedOk && randomness) {
    const slots = setup.prizes.flatMap((p) => Array<string>(p.quantity).fill(p.name));
    const expected = await pick(result.seed, randomness, entries.entries, slots);
    winnersOk =
      expected.length === result.winners.length &&
      expected.every(([prize, entry], i) => result.winners[i].prize === prize && result.winners[i].entry_id === entry);
  }
  checks.push({ name: "winners", ok: winnersOk });
  return checks;
}
