// The `/v1` API's shapes the console reads and writes (see GET /v1/openapi.json).
import type { NetworkKind } from "../../../ui/src/lib/limits";

export type { NetworkKind };
export type Role = "employee" | "curator" | "admin";
export type ContentState = "draft" | "approved" | "retracted";
export type ContentKind = "article" | "video" | "social_post" | "ad";
export const NETWORKS: NetworkKind[] = ["linkedin", "x", "mastodon", "bluesky", "facebook"];
export const KINDS: ContentKind[] = ["article", "video", "social_post", "ad"];

export interface Org { id: string; name: string; slug: string }
export interface Person {
  id: string; name: string; email: string; country: string; language: string;
  department: string; role: Role; active: boolean;
}
export interface ConsoleSession {
  person: Person; org: Org; csrf_token: string; idle_timeout_secs: number; expires_at: string;
}
export interface Audience { countries: string[]; languages: string[]; departments: string[] }
export interface SuggestedText { network: NetworkKind; language: string; text: string }
export interface Curated {
  id: string; kind: ContentKind; channel_id: string; title: string; summary: string;
  body_html: string; url: string; image_url: string | null; language: string;
  suggested_texts: SuggestedText[]; published_at: string; expires_at: string | null;
  updated_at: string; version: number; state: ContentState; audience: Audience;
  publish_at: string | null; created_by: string; created_at: string; approved_by: string | null;
  approved_at: string | null; retracted_reason: string | null; live: boolean; source_id: string | null;
}
export interface NewContent {
  kind: ContentKind; channel_id: string; title: string; summary: string; body_html: string;
  url: string; image_url: string | null; language: string; suggested_texts: SuggestedText[];
  audience: Audience; publish_at: string | null; expires_at: string | null;
}
export interface Channel { id: string; slug: string; names: Record<string, string> }
export interface AuditEntry {
  at: string; actor_id: string | null; action: string; subject_id: string; detail: unknown;
}
export type SourceKind = "feed" | "youtube" | "mastodon" | "bluesky" | "page";
export const SOURCE_KINDS: SourceKind[] = ["feed", "youtube", "mastodon", "bluesky", "page"];
export interface SourceHealth {
  last_fetch_at: string | null; last_new_entry_at: string | null; last_error: string | null;
  failing_since: string | null; flagged: boolean; entries: number; next_poll_at: string | null;
}
export interface Source {
  id: string; kind: SourceKind; address: string; fetch_url: string; channel_id: string;
  auto_publish: boolean; interval_minutes: number; paused: boolean; health: SourceHealth;
  created_at: string;
}
export interface PollReport {
  not_modified: boolean; seen: number; created: number; duplicates: number; skipped: number;
  error: string | null;
}
export interface Enrolment { person_id: string; code: string; link: string; expires_at: string }
export interface DeviceSession {
  device_id: string; person_id: string; device_name: string; platform: string;
  created_at: string; last_seen_at: string; revoked_at: string | null; current: boolean;
}
export interface ImportReport { rows: number; imported: number; errors: { line: number; error: string }[] }

// Analytics (GET /v1/analytics/...): `null` is "fewer than 5 people".
export interface MonthFigures {
  month: string; enrolled: number | null; sharers: number | null; sharer_rate: number | null;
  shares: number | null; verified: number | null; declared: number | null;
  shares_per_sharer: number | null; clicks: number | null; click_through: number | null;
  consulters: number | null; consult_rate: number | null;
  reach?: number | null; reach_unknown?: number | null;
}
export type Dimension = "channel" | "network" | "language" | "country" | "department" | "content";
export interface GroupFigures {
  key: string; hidden: boolean; people: number | null; shares: number | null;
  verified: number | null; declared: number | null; clicks: number | null;
  // A content's title, and its reads in the month (content breakdowns).
  label?: string | null; reads?: number | null;
  reach?: number | null; reach_unknown?: number | null;
}
export interface Adoption {
  people: number | null; with_device: number | null; with_account: number | null;
  by_network: { network: NetworkKind; people: number | null }[];
}
export interface Breakdown { month: string; by: Dimension; groups: GroupFigures[] }

// Privacy (GET /v1/privacy) and one person's figures (only while individual exports are on).
export interface PrivacySettings {
  min_group: number;
  individual_export: { enabled: boolean; reason: string | null; since: string | null };
}
export interface PersonMonth { month: string; points: number; verified: number; declared: number; clicks: number }
export interface ProgrammeSettings { time_zone: string; team_boards: boolean }

// The monthly draw (GET /v1/programme/draws/{month}).
export interface Prize { name: string; quantity: number }
export interface Eligibility { top_points: number | null; min_verified_shares: number | null }
export interface DrawSetup { prizes: Prize[]; eligibility: Eligibility }
export interface DrawCommitment {
  algorithm: string; seed_hash: string; beacon_chain: string; beacon_round: number;
  beacon_round_at: string; closes_at: string; prizes: Prize[]; eligibility: Eligibility; digest: string;
  committed_at: string;
}
export interface DrawEntries { entries: string[]; list_hash: string; frozen_at: string }
export interface BeaconRound { round: number; signature: string; randomness: string | null }
export interface DrawWinner { prize: string; entry_id: string; name: string }
export interface DrawResult { seed: string; beacon: BeaconRound; winners: DrawWinner[]; drawn_at: string }
export interface Draw {
  month: string; setup: DrawSetup | null; commitment: DrawCommitment | null;
  entries: DrawEntries | null; result: DrawResult | null; my_entry_id: string | null; opted_out: boolean;
}
