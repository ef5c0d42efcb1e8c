// The prize draw's check (relay-draw-v1) in the browser: the same steps as `crates/draw`, which
// every employee's app runs, specified byte by byte in `docs/draw.md`. The commitment's digest
// must be that of what it binds (seed hash, round, close, prizes, eligibility); the times follow
// from quicknet's genesis and period built in here (never from the server's word); the entry
// list is frozen after the close and before the round; the round's BLS signature verifies
// against quicknet's public key (@noble/curves); the seed hashes to the commitment; the winners
// are the ones the algorithm picks. This browser also pins the first commitment and list it saw
// for a month and says when a later one differs.
import { bls12_381 } from "@noble/curves/bls12-381.js";
import type { Draw } from "./types";

export const ALGORITHM = "relay-draw-v1";
export const COMMITMENT_HEADER = "relay-draw-v1 commitment";

/// A beacon chain's published parameters (`https://api.drand.sh/<chain hash>/info`).
export interface Chain {
  hash: string;
  publicKey: string;
  /** When round 1 was published, Unix seconds. */
  genesis: number;
  period: number;
  /** A test build's moved clock (never in production). */
  moved?: boolean;
}

/// drand's quicknet, run by the League of Entropy.
export const QUICKNET: Chain = {
  hash: "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
  publicKey:
    "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a",
  genesis: 1692803367,
  period: 3,
};

/// The chain this page checks on: quicknet, unless a test build of the server moved its clock to
/// replay recorded rounds (it then says so in the page, and the console shows it loudly).
export function chainInUse(doc: Document | undefined = globalThis.document): Chain {
  const moved = doc?.querySelector('meta[name="relay-test-beacon-genesis"]')?.getAttribute("content");
  const genesis = moved ? Number(moved) : NaN;
  return Number.isSafeInteger(genesis) ? { ...QUICKNET, genesis, moved: true } : QUICKNET;
}

/// When `round` is published: genesis + (round - 1) x period, Unix seconds.
export function roundTime(chain: Chain, round: number): number {
  return chain.genesis + Math.max(0, round - 1) * chain.period;
}

export type CheckName =
  | "algorithm"
  | "chain"
  | "commitment"
  | "prizes"
  | "times"
  | "list"
  | "mine"
  | "pinned"
  | "round"
  | "signature"
  | "randomness"
  | "seed"
  | "winners";
export interface Check {
  name: CheckName;
  ok: boolean;
  /** What failed, in words (English: shown beside the translated check). */
  detail?: string;
}

export interface Seen {
  value: string;
  seen_at: string;
}
/// What this browser saw first for a month: the commitment's digest and the list's hash.
export interface Pins {
  commitment?: Seen;
  list?: Seen;
}

export type Stage = "open" | "committed" | "frozen" | "drawn";
export type Witness = "not_frozen" | "before_round" | "after_round";

export interface Verification {
  stage: Stage;
  checks: Check[];
  /** Whether this browser saw the list before the round existed (by its own clock). */
  witness: Witness;
  /** The pins after this check (new ones added; changed ones kept as first seen). */
  pins: Pins;
}

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

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), false);
  return b;
}

/// An RFC 3339 time as nanoseconds since the epoch (exact: the server writes nanoseconds).
export function nanos(rfc3339: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(rfc3339);
  if (!m) throw new Error(`not a time: ${rfc3339}`);
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) throw new Error(`not a time: ${rfc3339}`);
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

const SECOND = 1_000_000_000n;
/// Unix seconds, rounded down (as the canonical text writes them).
export function unixSeconds(rfc3339: string): number {
  const n = nanos(rfc3339);
  const s = n / SECOND;
  return Number(n < 0n && n % SECOND !== 0n ? s - 1n : s);
}

function iso(unix: number): string {
  return new Date(unix * 1000).toISOString().replace(".000Z", "Z");
}

/// The earliest moment a month (`YYYY-MM`) can have ended in any time zone: the next month's
/// first midnight at UTC+14.
export function monthEndEarliest(month: string): number | null {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) return null;
  const [year, mm] = [Number(m[1]), Number(m[2])];
  if (mm < 1 || mm > 12) return null;
  return Date.UTC(year, mm, 1) / 1000 - 14 * 3600;
}

export async function seedHash(seedHex: string): Promise<string> {
  return toHex(await sha256(fromHex(seedHex)));
}

export async function listHash(entries: string[]): Promise<string> {
  return toHex(await sha256(...entries.map((e) => encoder.encode(`${e}\n`))));
}

export function entryIdOk(id: string): boolean {
  return /^[0-9a-f]{32}$/.test(id);
}

export function prizeNameOk(name: string): boolean {
  // No control characters (a newline would make a second line), no white space at either end.
  // eslint-disable-next-line no-control-regex
  return name !== "" && !/[\u0000-\u001f\u007f-\u009f]/.test(name) && name.trim() === name;
}

type Commitment = NonNullable<Draw["commitment"]>;

/// The commitment's canonical text: UTF-8 lines, each ending in one `\n` (`docs/draw.md`).
export function canonical(month: string, c: Commitment): string {
  const e = c.eligibility;
  const eligibility =
    e.top_points !== null && e.top_points !== undefined
      ? `eligibility top_points ${e.top_points}`
      : e.min_verified_shares !== null && e.min_verified_shares !== undefined
        ? `eligibility min_verified_shares ${e.min_verified_shares}`
        : "eligibility none";
  const lines = [
    COMMITMENT_HEADER,
    `month ${month}`,
    `seed_hash ${c.seed_hash}`,
    `chain ${c.beacon_chain}`,
    `round ${c.beacon_round}`,
    `closes_at ${unixSeconds(c.closes_at)}`,
    eligibility,
    ...c.prizes.map((p) => `prize ${p.quantity} ${p.name}`),
  ];
  return lines.map((l) => `${l}\n`).join("");
}

export async function digest(month: string, c: Commitment): Promise<string> {
  return toHex(await sha256(encoder.encode(canonical(month, c))));
}

/// Checks a quicknet round's BLS signature (scheme bls-unchained-g1-rfc9380: the signature on
/// G1 of SHA-256 of the round as 8 big-endian bytes, the key on G2).
export async function signatureOk(chain: Chain, round: number, signatureHex: string): Promise<boolean> {
  try {
    const message = await sha256(u64(round));
    const sigs = bls12_381.shortSignatures;
    return sigs.verify(fromHex(signatureHex), sigs.hash(message), fromHex(chain.publicKey));
  } catch {
    return false;
  }
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

function sameSetup(draw: Draw, c: Commitment): boolean {
  if (!draw.setup) return true;
  const a = draw.setup;
  return (
    JSON.stringify(a.prizes.map((p) => [p.name, p.quantity])) === JSON.stringify(c.prizes.map((p) => [p.name, p.quantity])) &&
    (a.eligibility.top_points ?? null) === (c.eligibility.top_points ?? null) &&
    (a.eligibility.min_verified_shares ?? null) === (c.eligibility.min_verified_shares ?? null)
  );
}

// The times a draw must keep, on the chain's clock; the first that does not hold, in words.
function timesProblem(draw: Draw, chain: Chain): string | null {
  const c = draw.commitment!;
  const round = BigInt(roundTime(chain, c.beacon_round)) * SECOND;
  if (nanos(c.beacon_round_at) !== round)
    return `round ${c.beacon_round} is published at ${iso(Number(round / SECOND))}, not ${c.beacon_round_at}`;
  const ended = monthEndEarliest(draw.month);
  if (ended === null) return "the month is malformed";
  const closes = nanos(c.closes_at);
  if (closes < BigInt(ended) * SECOND) return `the month closes at ${c.closes_at}, before it ends`;
  if (nanos(c.committed_at) >= closes) return "committed after the month closed";
  if (BigInt(unixSeconds(c.closes_at)) * SECOND >= round) return "the beacon round is not after the month closes";
  if (draw.entries) {
    const frozen = nanos(draw.entries.frozen_at);
    if (frozen < closes) return "the list was frozen before the month closed";
    if (BigInt(unixSeconds(draw.entries.frozen_at)) * SECOND >= round)
      return `the list was frozen at ${draw.entries.frozen_at}, once the beacon round existed`;
  }
  if (draw.result && BigInt(unixSeconds(draw.result.drawn_at)) * SECOND < round)
    return `drawn at ${draw.result.drawn_at}, before the beacon round existed`;
  return null;
}

function check(name: CheckName, ok: boolean, detail?: string): Check {
  return ok ? { name, ok } : { name, ok, detail };
}

/// Every check of the parts of a draw published so far, in order; `null` before the commitment.
/// `pins` are what this browser saw first; `now` is its clock (milliseconds).
export async function verify(draw: Draw, chain: Chain = QUICKNET, pins: Pins = {}, now: number = Date.now()): Promise<Verification | null> {
  const { commitment: c, entries, result } = draw;
  if (!c) return null;
  const checks: Check[] = [];
  const seenAt = new Date(now).toISOString();
  const next: Pins = { ...pins };
  checks.push(check("algorithm", c.algorithm === ALGORITHM, `unknown algorithm ${c.algorithm}`));
  checks.push(check("chain", c.beacon_chain === chain.hash, `chain ${c.beacon_chain} is not drand's quicknet`));
  const wellFormed =
    (c.eligibility.top_points === null) !== (c.eligibility.min_verified_shares === null) &&
    c.prizes.length > 0 &&
    c.prizes.every((p) => p.quantity > 0 && prizeNameOk(p.name));
  let digestOk = false;
  try {
    digestOk = wellFormed && (await digest(draw.month, c)) === c.digest;
  } catch {
    digestOk = false;
  }
  checks.push(check("commitment", digestOk, wellFormed ? "the digest is not that of what it binds" : "malformed prizes or eligibility"));
  checks.push(check("prizes", sameSetup(draw, c), "the prizes or eligibility differ from the commitment's"));
  let times: string | null;
  try {
    times = timesProblem(draw, chain);
  } catch (e) {
    times = (e as Error).message;
  }
  checks.push(check("times", times === null, times ?? undefined));

  let pinned: string | null = null;
  if (next.commitment && next.commitment.value !== c.digest)
    pinned = `the commitment changed since this browser first saw it on ${next.commitment.seen_at}`;
  else next.commitment ??= { value: c.digest, seen_at: seenAt };
  let witness: Witness = "not_frozen";
  if (entries) {
    const idsOk = entries.entries.every(entryIdOk);
    const sorted = entries.entries.every((e, i) => i === 0 || entries.entries[i - 1] < e);
    const hashOk = (await listHash(entries.entries)) === entries.list_hash;
    checks.push(
      check(
        "list",
        idsOk && sorted && hashOk,
        !idsOk ? "an entry id is not 32 lowercase hex digits" : !sorted ? "not sorted without repeats" : "the list does not match its hash",
      ),
    );
    if (draw.my_entry_id !== null)
      checks.push(check("mine", entries.entries.includes(draw.my_entry_id), `your entry ${draw.my_entry_id} is not in the list`));
    if (next.list && next.list.value !== entries.list_hash)
      pinned ??= `the entry list changed since this browser first saw it on ${next.list.seen_at}`;
    else next.list ??= { value: entries.list_hash, seen_at: seenAt };
    const round = roundTime(chain, c.beacon_round) * 1000;
    if (next.list) witness = Date.parse(next.list.seen_at) < round ? "before_round" : "after_round";
  }
  checks.push(check("pinned", pinned === null, pinned ?? undefined));
  if (!entries) return { stage: "committed", checks, witness, pins: next };
  if (!result) return { stage: "frozen", checks, witness, pins: next };

  checks.push(check("round", result.beacon.round === c.beacon_round, `round ${result.beacon.round}, committed ${c.beacon_round}`));
  const signed = await signatureOk(chain, result.beacon.round, result.beacon.signature);
  checks.push(check("signature", signed, "the beacon's signature does not verify against quicknet's key"));
  let randomness = "";
  try {
    randomness = toHex(await sha256(fromHex(result.beacon.signature)));
  } catch {
    randomness = "";
  }
  const published = result.beacon.randomness?.toLowerCase();
  checks.push(check("randomness", randomness !== "" && (published === undefined || published === randomness), "not the signature's SHA-256"));
  let seedOk = false;
  try {
    seedOk = /^[0-9a-fA-F]{64}$/.test(result.seed) && (await seedHash(result.seed)) === c.seed_hash;
  } catch {
    seedOk = false;
  }
  checks.push(check("seed", seedOk, "the revealed seed does not match the commitment"));
  let winnersOk = false;
  if (seedOk && signed && randomness) {
    const slots = c.prizes.flatMap((p) => Array<string>(p.quantity).fill(p.name));
    const expected = await pick(result.seed, randomness, entries.entries, slots);
    winnersOk =
      expected.length === result.winners.length &&
      expected.every(([prize, entry], i) => result.winners[i].prize === prize && result.winners[i].entry_id === entry);
  }
  checks.push(check("winners", winnersOk, "not the winners the algorithm picks"));
  return { stage: "drawn", checks, witness, pins: next };
}

/// Where this browser keeps a month's pins for an organisation.
export function pinsKey(org: string, month: string): string {
  return `relay.draw.pins.${org}.${month}`;
}

export function loadPins(storage: Storage, key: string): Pins {
  try {
    const value = JSON.parse(storage.getItem(key) ?? "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Pins) : {};
  } catch {
    return {};
  }
}

export function savePins(storage: Storage, key: string, pins: Pins) {
  try {
    storage.setItem(key, JSON.stringify(pins));
  } catch {
    // Storage full or denied: the check still shows; nothing is pinned.
  }
}
