// The `/v1` API's shapes the console reads and writes, generated from the server's OpenAPI
// document (`api.gen.ts`: `RELAY_WRITE_BINDINGS=1 cargo test -p relay-server --lib
// console_types` rewrites it, and CI fails when it is stale). Here: the console's names for
// some of them, and the lists its forms offer.
import type { ContentKind, Network, SourceKind } from "./api.gen";

export type {
  Adoption, Audience, AuditEntry, BeaconRound, Breakdown, Channel, ConsoleSession, ContentKind,
  ContentState, DeviceSession, Dimension, Draw, DrawCommitment, DrawEntries, DrawResult,
  DrawSetup, DrawWinner, Eligibility, Enrolment, GroupFigures, ImportReport, MonthFigures,
  MonthRules, NewContent, Org, Person, PersonMonth, PointsRules, PollReport, PrivacySettings,
  Prize, ProgrammeSettings, Role, Source, SourceHealth, SourceKind, SuggestedText, TopTen,
} from "./api.gen";
/** A content item as curators see it (drafts included). */
export type { CuratedContent as Curated } from "./api.gen";
export type NetworkKind = Network;

export const NETWORKS: NetworkKind[] = ["linkedin", "x", "mastodon", "bluesky", "facebook"];
export const KINDS: ContentKind[] = ["article", "video", "social_post", "ad"];
export const SOURCE_KINDS: SourceKind[] = ["feed", "youtube", "mastodon", "bluesky", "page"];
