// Generated from relay-server's OpenAPI document (GET /v1/openapi.json): do not edit.
// Regenerate with `RELAY_WRITE_BINDINGS=1 cargo test -p relay-server --lib console_types`.

/**
 * How far the programme has spread, now: active people, those with a device enrolled, those
 * with an account connected on a device. `None`: fewer than 5 people behind it, or a
 * difference between two of them that would be.
 */
export interface Adoption {
  /** People with an account connected, by network. */
  by_network: NetworkAdoption[];
  people: number | null;
  with_account: number | null;
  with_device: number | null;
}

/**
 * Who may see a content item. Each list empty means "everyone" for that attribute; a person
 * sees the item when every non-empty list contains their attribute.
 */
export interface Audience {
  countries?: string[];
  departments?: string[];
  languages?: string[];
}

/** One line of the curation audit log. */
export interface AuditEntry {
  /** `content.create`, `content.edit`, `content.approve`, `content.retract`, `person.add`... */
  action: string;
  /** The person who acted, or `None` for the command line and the publication clock. */
  actor_id: string | null;
  at: string;
  detail: unknown;
  subject_id: string;
}

/** A beacon round as drand publishes it (`/public/{round}`). */
export interface BeaconRound {
  /** SHA-256 of the signature, hex (checked when given). */
  randomness: string | null;
  round: number;
  /** BLS signature, hex. */
  signature: string;
}

/** The opt-in leaderboard of a month (or of all time). */
export interface Board {
  entries: BoardEntry[];
  /** `YYYY-MM`, or none for all time. */
  month: string | null;
}

/** One line of the leaderboard. */
export interface BoardEntry {
  /** The person's name, or the pseudonym they chose. */
  name: string;
  points: number;
  /** 1 for the most points; equal points share a rank. */
  rank: number;
  /** This line is the caller. */
  you: boolean;
}

/** Body of `PUT /v1/programme/board/me`: join the leaderboard (or change the name shown). */
export interface BoardMembership {
  /** The name shown instead of the person's own (1 to 40 characters); none shows their name. */
  pseudonym: string | null;
}

/** A month's shares by one dimension, largest groups first, hidden ones last. */
export interface Breakdown {
  by: Dimension;
  groups: GroupFigures[];
  month: string;
}

/**
 * One change in the feed: an item the caller may see, whole, or a tombstone for one they may
 * no longer see (retracted, expired, moved out of their audience).
 */
export type Change = {
  item: Item;
  op: "upsert";
} | {
  cause: RemovalCause;
  id: string;
  op: "delete";
  /** The curators' words, for a retraction (shown where queued shares are cancelled). */
  reason?: string;
  version: number;
};

/** A topic content is filed under ("Corporate news", "Careers"...), named in each language. */
export interface Channel {
  id: string;
  /** Display names by language code (`{"en": "Careers", "fr": "Carrières"}`). */
  names: Record<string, string>;
  slug: string;
}

/** Body of `POST /v1/programme/draws/{month}/commitment`. */
export interface CommitRequest {
  /** A later beacon round than the first one after the month closes (the default). */
  beacon_round: number | null;
}

/**
 * Body of `PUT /v1/me/accounts`: the networks the calling device has an account connected on
 * (kinds only, never handles), for the adoption figure.
 */
export interface ConnectedNetworks {
  /** At most one of each. */
  networks: Network[];
}

/**
 * A browser's console session. The session itself travels in an `HttpOnly` cookie; the page
 * sends `csrf_token` back in the `X-CSRF-Token` header of every write.
 */
export interface ConsoleSession {
  csrf_token: string;
  /** And at this time whatever happens. */
  expires_at: string;
  /** The session ends after this long without a request. */
  idle_timeout_secs: number;
  org: Org;
  person: Person;
}

/** Body of `POST /v1/console/session`: the token of a one-time sign-in link. */
export interface ConsoleSignIn {
  token: string;
}

/** `GET /v1/console/config`: how a browser can sign in here. */
export interface ConsoleSignInOptions {
  /** Whether "Sign in with your company account" is offered (`/console/oidc/start`). */
  oidc: boolean;
}

export type ContentKind = "article" | "video" | "social_post" | "ad";

export type ContentState = "draft" | "approved" | "retracted";

/**
 * Body of `PATCH /v1/content/{id}`: only the fields present change. Draft or approved content
 * can be edited; approved content stays approved and employees receive the edit.
 */
export interface ContentUpdate {
  audience: null | Audience;
  body_html: string | null;
  channel_id: string | null;
  /** `Some(None)` (JSON `null`) removes the expiry. */
  expires_at: string | null;
  /** `Some(None)` (JSON `null`) removes the image. */
  image_url: string | null;
  kind: null | ContentKind;
  language: string | null;
  publish_at: string | null;
  suggested_texts: SuggestedText[] | null;
  summary: string | null;
  title: string | null;
  url: string | null;
}

/** A content item as curators see it: everything, in any state. */
export type CuratedContent = Item & {
  approved_at: string | null;
  approved_by: string | null;
  audience: Audience;
  created_at: string;
  created_by: string;
  /** Whether employees in its audience receive it right now. */
  live: boolean;
  /** The requested publish time (the item's `published_at` once approved). */
  publish_at: string | null;
  retracted_reason: string | null;
  /** The source it was gathered from (`GET /v1/sources/{id}`); none when written by hand. */
  source_id: string | null;
  state: ContentState;
};

/** One enrolled device of a person, as listed at `GET /v1/sessions`. */
export interface DeviceSession {
  created_at: string;
  /** Whether this is the session making the request. */
  current: boolean;
  device_id: string;
  device_name: string;
  last_seen_at: string;
  person_id: string;
  platform: string;
  revoked_at: string | null;
}

export type Dimension = "channel" | "network" | "language" | "country" | "department" | "content";

/** A month's draw as everyone sees it, with the caller's own part. */
export interface Draw {
  commitment: null | DrawCommitment;
  entries: null | DrawEntries;
  /** `YYYY-MM`. */
  month: string;
  /** The caller's entry id, once the list is frozen and they are on it. */
  my_entry_id: string | null;
  /** Whether the caller opted out of this month's draw. */
  opted_out: boolean;
  result: null | DrawResult;
  setup: null | DrawSetup;
}

/**
 * Published before the month closes: nobody can then choose the seed, the beacon round, the
 * prizes or who is eligible. Devices pin its `digest` the first time they see it.
 */
export interface DrawCommitment {
  /** `relay-draw-v1`. */
  algorithm: string;
  /** The beacon: drand quicknet's chain hash, and the round that will be used. */
  beacon_chain: string;
  beacon_round: number;
  /**
   * When that round is published (quicknet's genesis plus 3 s a round: every verifier
   * computes it).
   */
  beacon_round_at: string;
  /** When the month's records close and the entry list is frozen, before the round. */
  closes_at: string;
  committed_at: string;
  /** SHA-256 of the commitment's canonical text (see `docs/draw.md`), hex: what devices pin. */
  digest: string;
  /** Who enters, bound by the commitment. */
  eligibility: Eligibility;
  /** The prizes, in the order they are drawn, bound by the commitment. */
  prizes: Prize[];
  /** SHA-256 of the secret seed, hex. */
  seed_hash: string;
}

/**
 * The entry list, frozen when the month closed and published before the beacon round exists:
 * sorted pseudonymous entry ids (16 random bytes each, 32 lowercase hex digits).
 */
export interface DrawEntries {
  entries: string[];
  frozen_at: string;
  /** SHA-256 of each entry id followed by a newline, hex. */
  list_hash: string;
}

/** Body of `PUT /v1/programme/draws/{month}/me`. */
export interface DrawParticipation {
  opted_out: boolean;
}

/**
 * Body of `POST /v1/programme/draws/{month}/result`: the beacon round, pasted by an admin
 * where the server cannot reach the beacon (its signature is checked all the same); empty to
 * let the server fetch it.
 */
export interface DrawRequest {
  beacon: null | BeaconRound;
}

export interface DrawResult {
  beacon: BeaconRound;
  drawn_at: string;
  /** The seed, revealed: 32 bytes, hex. */
  seed: string;
  winners: DrawWinner[];
}

/**
 * Body of `PUT /v1/programme/draws/{month}`: the month's prizes and who is eligible. Set
 * before the entry list is frozen.
 */
export interface DrawSetup {
  eligibility: Eligibility;
  prizes: Prize[];
}

export interface DrawWinner {
  entry_id: string;
  /** The winner's name, or their leaderboard pseudonym. */
  name: string;
  prize: string;
}

/** Who enters the draw. Declared shares never count toward it. */
export interface Eligibility {
  /** Everyone with at least K verified shares in the month. */
  min_verified_shares: number | null;
  /** The top N people by the month's points (among those with a verified share). */
  top_points: number | null;
}

/** Body of `POST /v1/enrol`. */
export interface EnrolRequest {
  code: string;
  /** A name the person recognises in their list of devices ("Work laptop"). */
  device_name: string;
  /** `linux`, `macos`, `windows`, `android`, `ios`, `cli`... */
  platform: string;
}

/** Answer to a redeemed enrolment: the new session and who it belongs to. */
export interface EnrolResponse {
  org: Org;
  person: Person;
  session: SessionTokens;
}

/** A one-time enrolment code for a person, to be redeemed by one device. */
export interface Enrolment {
  /** The code to type in the app (`ABCD-EFGH-JKLM-NPQR`). Shown once; the server keeps a hash. */
  code: string;
  expires_at: string;
  /** The same as a link the app opens: `relay://enrol?server=...&code=...`. */
  link: string;
  person_id: string;
}

/** What an erasure did. */
export interface Erasure {
  /**
   * Rows kept for the company's figures, now tied to no one (shares, consults, draw entries,
   * content the person wrote, audit entries).
   */
  anonymised: number;
  /** Rows deleted (devices, sessions, points, links, leaderboard entry...). */
  deleted: number;
  erased_at: string;
}

/**
 * Body of `POST /v1/me/erasure` and `POST /v1/people/{id}/erasure`. Erasure cannot be undone,
 * so the request says so.
 */
export interface ErasureRequest {
  /** Must be `true`. */
  confirm: boolean;
}

/** One group of a breakdown. Hidden groups carry no figure. */
export interface GroupFigures {
  clicks: number | null;
  declared: number | null;
  /** Fewer than 5 people, or hidden with such a group so that it cannot be subtracted out. */
  hidden: boolean;
  /** The channel's id, the network, the language, country or department. */
  key: string;
  /**
   * What the key names, where the server knows it better than the console (a content's
   * title).
   */
  label?: string;
  people: number | null;
  /** Estimated reach of the group's shares whose reach is known, and how many are not. */
  reach: number | null;
  reach_unknown: number | null;
  /**
   * Times the content was opened in the month (by UTC day; counts of reads, never of who
   * read). Content breakdowns only.
   */
  reads?: number;
  shares: number | null;
  verified: number | null;
}

/**
 * Answer to `POST /v1/people/import`: every row's fate. A file with any invalid row imports
 * nothing (`imported` is 0 and `errors` says which rows to fix).
 */
export interface ImportReport {
  errors: ImportRowError[];
  imported: number;
  rows: number;
}

/** One row of a people import that could not be taken, with why. */
export interface ImportRowError {
  error: string;
  /** The row's line in the file (the header is line 1). */
  line: number;
}

/** Whether admins may export one person's figures, and why. Every employee can read it. */
export interface IndividualExport {
  enabled: boolean;
  /** The recorded reason (an agreement with the works council, say), when enabled. */
  reason: string | null;
  /** Since when, when enabled. */
  since: string | null;
}

/** Body of `PUT /v1/privacy/individual-export`. */
export interface IndividualExportChange {
  enabled: boolean;
  /** Required to enable: 10 to 500 characters. */
  reason: string | null;
}

/** A content item as employees receive it: approved, published, unexpired, and meant for them. */
export interface Item {
  /** Sanitised HTML (no script, no event handlers, no `javascript:` links). */
  body_html: string;
  channel_id: string;
  expires_at: string | null;
  id: string;
  image_url: string | null;
  kind: ContentKind;
  language: string;
  published_at: string;
  suggested_texts: SuggestedText[];
  summary: string;
  title: string;
  updated_at: string;
  /** The canonical URL shared to social networks. */
  url: string;
  /** The feed version of this revision: a later revision of the item has a larger one. */
  version: number;
}

/** `GET /v1/linkedin`: what a device needs to start LinkedIn's sign-in. */
export interface LinkedInApp {
  authorize_url: string;
  client_id: string;
  /**
   * The server's page registered with LinkedIn as the redirect URL: it forwards the browser
   * to the device's loopback port (carried in `state` as `<port>.<random>`).
   */
  redirect_uri: string;
  scopes: string[];
}

/** Body of `POST /v1/linkedin/token`: the code the browser brought back to the device. */
export interface LinkedInCode {
  code: string;
  code_verifier: string | null;
  redirect_uri: string;
}

/** LinkedIn's answer, passed through to the device (`Cache-Control: no-store`). */
export interface LinkedInTokens {
  access_token: string;
  /** Seconds (LinkedIn: 60 days). */
  expires_in: number;
  refresh_token: string | null;
  scope: string | null;
}

/** `GET /v1/me`. */
export interface Me {
  device_id: string;
  org: Org;
  person: Person;
}

/** One month of the programme, organisation-wide. `None`: fewer than 5 people behind it. */
export interface MonthFigures {
  /** `clicks / shares`. */
  click_through: number | null;
  /** Unique clicks on the tracked links of the month's shares. */
  clicks: number | null;
  /** `consulters / enrolled`. */
  consult_rate: number | null;
  /** People who opened at least one item. */
  consulters: number | null;
  declared: number | null;
  /** Active people with a device enrolled during the month. */
  enrolled: number | null;
  /** `YYYY-MM`, in the organisation's time zone. */
  month: string;
  /**
   * Estimated reach: the followers of the accounts the shares went out from, summed over the
   * shares whose network gave the count.
   */
  reach: number | null;
  /** Shares whose reach is unknown (LinkedIn gives no count; share pages none either). */
  reach_unknown: number | null;
  /** `sharers / enrolled`. */
  sharer_rate: number | null;
  /** People who shared at least once (withdrawn records not counted). */
  sharers: number | null;
  shares: number | null;
  /** `shares / sharers`. */
  shares_per_sharer: number | null;
  verified: number | null;
}

/** A month of the programme as the organisation's calendar sees it. */
export interface MonthInfo {
  /** Records for this month are refused from this moment. */
  closes_at: string;
  ends_at: string;
  /** `YYYY-MM`. */
  month: string;
  starts_at: string;
  /** The organisation's time zone (IANA name). */
  time_zone: string;
}

/** The rules in force for a month. */
export interface MonthRules {
  /** Whether the month has begun (its rules can no longer change). */
  frozen: boolean;
  month: string;
  rules: PointsRules;
}

/** The caller's own figures: private, whether or not they are on the leaderboard. */
export interface MyProgramme {
  all_time_points: number;
  clicks: number;
  declared_shares: number;
  month: MonthInfo;
  /** Whether the caller is on the leaderboard, and under which name. */
  on_board: boolean;
  points: number;
  pseudonym: string | null;
  /**
   * The caller's rank among everyone with points this month (leaderboard or not): "you
   * would be 14th". None without points.
   */
  rank: number | null;
  /** How many people have points this month. */
  ranked: number;
  rules: PointsRules;
  shares: MyShare[];
  verified_shares: number;
}

/** One of the caller's scored or refused shares, as the ledger sees it. */
export interface MyShare {
  clicks: number;
  item_id: string;
  network: Network;
  points: number;
  proof: ShareProof;
  share_id: string;
  shared_at: string;
  /**
   * Where the share stands: pending (being checked), confirmed, attested, declared or
   * rejected.
   */
  status?: ShareStatus;
  /** Why, when that needs saying. */
  status_reason: string | null;
  title: string;
  /**
   * Why the share earned no share points (already scored, the daily cap, retracted), if it
   * did not.
   */
  unscored: string | null;
}

export type Network = "linkedin" | "x" | "mastodon" | "bluesky" | "facebook";

export interface NetworkAdoption {
  network: Network;
  people: number | null;
}

/** Body of `POST /v1/channels`. */
export interface NewChannel {
  names: Record<string, string>;
  slug: string;
}

/** Body of `POST /v1/content`: a new draft. */
export interface NewContent {
  audience?: Audience;
  /** HTML; sanitised on the way in. */
  body_html?: string;
  channel_id: string;
  expires_at: string | null;
  image_url: string | null;
  kind: ContentKind;
  language: string;
  /** When it reaches employees once approved; approval time when absent. */
  publish_at: string | null;
  suggested_texts?: SuggestedText[];
  summary?: string;
  title: string;
  url: string;
}

/** Body of `POST /v1/people/{id}/enrolments`. */
export interface NewEnrolment {
  /** How long the code stays valid; 7 days when absent, at most 30 days. */
  valid_hours: number | null;
}

/** Body of `POST /v1/links`: the caller's tracked link for an item on a network. */
export interface NewLink {
  item_id: string;
  network: Network;
}

/** Body of `POST /v1/people`. */
export interface NewPerson {
  country: string;
  department?: string;
  email: string;
  language: string;
  name: string;
  role?: Role;
}

/**
 * Body of `POST /v1/shares`: the caller's device posted (or opened a share intent for) an item.
 * 
 * `share_id` is chosen by the device (a UUID from its outbox); with the session's device id it
 * names the record, so a repeated request is the same record, never a second one.
 */
export interface NewShareRecord {
  /** The Mastodon account's server (`mastodon.social`), which its post URLs are on. */
  account_host: string | null;
  /**
   * The posting account's followers as the device read them (Bluesky, Mastodon, X). Kept
   * as the device's word and never summed into reach: the server reads the count itself
   * where the network's profiles are public, and nowhere else is reach measured. Refused
   * for LinkedIn (its counts are never used) and for declared shares. At most 10,000,000,000.
   */
  followers: number | null;
  item_id: string;
  /** The tracked link the post carried (`POST /v1/links`), so its clicks count for it. */
  link_code: string | null;
  network: Network;
  /** The network's id of the post (a verified share has an id or a URL). */
  post_id: string | null;
  /**
   * The public URL of the post, when the network tells it. It must be on the network's own
   * domain (for Mastodon, on `account_host`).
   */
  post_url: string | null;
  /**
   * Verified (the network answered with the post) or declared (a share page was opened).
   * Declared when not said.
   */
  proof?: ShareProof;
  share_id: string;
  shared_at: string;
}

/** Body of `POST /v1/sources`. */
export interface NewSource {
  /**
   * A feed or page URL, a YouTube channel URL or id (`UC...`), `@name@instance`, or a
   * Bluesky handle.
   */
  address: string;
  /**
   * Publish entries at once (an official account is already validated) instead of leaving
   * them in the inbox.
   */
  auto_publish?: boolean;
  /** Where its entries arrive as drafts. */
  channel_id: string;
  /** Minutes between polls (5 to 1440; 15 when absent). */
  interval_minutes: number | null;
  kind: SourceKind;
}

/** A person's notification preferences: `GET` and `PUT /v1/me/notifications`. */
export interface NotificationPrefs {
  /**
   * No notification until then (none: not paused). What arrives during a pause is not
   * announced later; it is in the feed.
   */
  paused_until: string | null;
  quiet_hours: QuietHours;
  /** The person's IANA time zone (none: the organisation's). */
  time_zone: string | null;
}

/** `GET /v1/auth/oidc`: the company's identity provider, where devices sign in (absent: 404). */
export interface OidcProvider {
  authorization_endpoint: string;
  client_id: string;
  issuer: string;
  scopes: string[];
}

/**
 * Body of `POST /v1/auth/oidc`: the code the browser brought back to the device, with what
 * the server needs to exchange it (PKCE) and check the ID token (the nonce the device sent).
 */
export interface OidcSignIn {
  code: string;
  code_verifier: string;
  device_name: string;
  nonce: string;
  platform: string;
  redirect_uri: string;
}

/** An organisation (tenant). */
export interface Org {
  id: string;
  name: string;
  slug: string;
}

/** A person of an organisation. Country, language and department decide which content they see. */
export interface Person {
  active: boolean;
  /** ISO 3166-1 alpha-2, upper case (`FR`). */
  country: string;
  department: string;
  email: string;
  id: string;
  /** BCP 47 primary language, lower case (`fr`). */
  language: string;
  name: string;
  role: Role;
}

/**
 * One month of one person's programme figures (`GET /v1/people/{id}/figures`, only while
 * individual exports are enabled).
 */
export interface PersonMonth {
  clicks: number;
  declared: number;
  month: string;
  points: number;
  verified: number;
}

/** Body of `PATCH /v1/people/{id}`: only the fields present change. */
export interface PersonUpdate {
  /** `false` deactivates the person and revokes every session of theirs. */
  active: boolean | null;
  country: string | null;
  department: string | null;
  language: string | null;
  name: string | null;
  role: null | Role;
}

/**
 * Answer of `GET /v1/me/data`: every row the server holds about the caller, table by table,
 * column by column (secrets' hashes left out: they say nothing about the person).
 */
export interface PersonalData {
  exported_at: string;
  /** [`PERSONAL_DATA_FORMAT`]. */
  format: string;
  person_id: string;
  /** Table name to its rows about the person (times are Unix milliseconds, as stored). */
  tables: Record<string, unknown>;
}

/**
 * How shares and clicks earn points. Set per organisation from a month on; a month's rules are
 * frozen once it has begun.
 */
export interface PointsRules {
  /** Points per unique click on a share's tracked link (default 1). */
  click: number;
  /** At most this many click points per share (default 20). */
  click_cap: number;
  /** At most this many scored shares per person per day (default 5). */
  daily_cap: number;
  /** Points for a declared share (default 3). */
  declared_share: number;
  /**
   * Whether attested shares (posted through X's or LinkedIn's API, which the server cannot
   * read) score and count for the draw as confirmed ones do; by default they count as
   * declared. Set before a month begins, like every rule, and shown to every employee.
   */
  trust_attested?: boolean;
  /** Points for a verified share (default 10). */
  verified_share: number;
}

/** What one poll of a source did. */
export interface PollReport {
  /** Drafts (or published items) made from new entries. */
  created: number;
  /** New entries dropped as duplicates of an item already gathered (same canonical URL). */
  duplicates: number;
  /** Why the poll failed, if it did. */
  error: string | null;
  /** `true` when the source answered 304 Not Modified. */
  not_modified: boolean;
  /** Entries in the answer. */
  seen: number;
  /** New entries left out: beyond the newest kept per poll, or without a link. */
  skipped: number;
}

/** The organisation's privacy settings, as every employee sees them. */
export interface PrivacySettings {
  individual_export: IndividualExport;
  /** The smallest group any figure in the console describes. */
  min_group: number;
}

/** A prize and how many of it are given. */
export interface Prize {
  /** 1 to 100 characters. */
  name: string;
  quantity: number;
}

/** An RFC 9457 problem document (`application/problem+json`): every error the server returns. */
export interface Problem {
  /** A stable machine-readable code (`invalid_request`, `session_revoked`, ...). */
  code: string;
  /** What went wrong in this case, written for the person reading it. */
  detail?: string;
  /** The HTTP status code. */
  status: number;
  /** A short human-readable summary of the kind of problem. */
  title: string;
  /** A URI naming the kind of problem, e.g. `https://relay.dev/problems/not-found`. */
  type: string;
}

/** The organisation's programme settings (`GET /v1/programme/settings`, everyone). */
export interface ProgrammeSettings {
  /** Whether team boards (by country and department) are shown. */
  team_boards: boolean;
  /** The IANA time zone the months follow (`Europe/Paris`). */
  time_zone: string;
}

/** Body of `PUT /v1/programme/settings` (admins): what is absent stays. */
export interface ProgrammeSettingsChange {
  team_boards: boolean | null;
  time_zone: string | null;
}

/** `GET /v1/programme/summary`: what the app shows, in one answer with an `ETag`. */
export interface ProgrammeSummary {
  all_time_board: Board;
  board: Board;
  me: MyProgramme;
  /** Whether the organisation shows team boards (when not, both are empty). */
  team_boards?: boolean;
  teams_by_country: TeamBoard;
  teams_by_department: TeamBoard;
  top: TopTen;
}

/**
 * Body of `PUT /v1/me/push`: where this device receives notifications. One channel per
 * device; registering again replaces it.
 */
export type PushChannel = {
  /** The subscription's authentication secret, base64url (16 bytes). */
  auth: string;
  /** The push service's `https` URL for this subscription. */
  endpoint: string;
  kind: "web_push";
  /** The subscription's P-256 public key, base64url (65 bytes uncompressed). */
  p256dh: string;
} | {
  kind: "fcm";
  token: string;
} | {
  kind: "apns";
  token: string;
};

/** Answer of `GET /v1/push/config`: what a device needs to subscribe. */
export interface PushConfig {
  /** The push services this server delivers through. */
  kinds: PushKind[];
  /** The VAPID public key (base64url), the `applicationServerKey` of a Web Push subscription. */
  vapid_public_key: string | null;
}

export type PushKind = "web_push" | "fcm" | "apns";

/**
 * Quiet hours, in the person's time zone: no notification between `start` and `end`
 * (`"21:00"` to `"08:00"` by default; equal times switch them off). What arrives meanwhile
 * comes as one notification when they end.
 */
export interface QuietHours {
  /** `HH:MM` */
  end: string;
  /** `HH:MM` */
  start: string;
}

/**
 * Body of `POST /v1/reads`: the items a device opened on one past day (UTC), reported once a
 * day. Reading is never scored; the server keeps only counts (each item's reads a day, and
 * whether a person consulted anything in a month), never who read what.
 */
export interface ReadReport {
  /** `YYYY-MM-DD` (UTC), before today. */
  day: string;
  /** At most 1,000 item ids. */
  items: string[];
}

/** What the server counted of a read report. */
export interface ReadsCounted {
  /** Items counted (unknown items and items not offered to the person are skipped). */
  counted: number;
  /** The same day's report from this device was counted already: nothing was counted again. */
  repeated: boolean;
}

/**
 * One of the caller's verified records whose month has not closed: the device checks that
 * its post still exists, and withdraws the record when it does not.
 */
export interface RecheckItem {
  /** `YYYY-MM`. */
  month: string;
  network: Network;
  post_id: string | null;
  post_url: string | null;
  share_id: string;
}

/** Body of `POST /v1/session/refresh`. */
export interface RefreshRequest {
  refresh_token: string;
}

export type RemovalCause = "retracted" | "expired" | "not_in_audience";

/** Body of `POST /v1/content/{id}/retract`. */
export interface RetractRequest {
  /** Why, shown to employees whose queued shares of it are cancelled. */
  reason?: string;
}

export type Role = "employee" | "curator" | "admin";

/** Body of `PUT /v1/programme/rules`: rules from a month that has not begun yet. */
export interface RulesChange {
  /** `YYYY-MM`, after the current month. */
  from_month: string;
  rules: PointsRules;
}

/**
 * A device session's tokens. The access token goes in `Authorization: Bearer`; the refresh
 * token buys a new pair at `POST /v1/session/refresh` and is rotated on every use.
 */
export interface SessionTokens {
  access_expires_at: string;
  access_token: string;
  device_id: string;
  refresh_expires_at: string;
  refresh_token: string;
}

export type ShareProof = "verified" | "declared";

/** A recorded share. */
export interface ShareRecord {
  device_id: string;
  id: string;
  item_id: string;
  /** The programme month the share counts in (`YYYY-MM`, the organisation's time zone). */
  month: string;
  network: Network;
  person_id: string;
  /** Points the share earned (its clicks' points included). */
  points: number;
  post_url: string | null;
  proof: ShareProof;
  recorded_at: string;
  share_id: string;
  shared_at: string;
  /** Where the share stands (see [`ShareStatus`]). */
  status?: ShareStatus;
  /** Why it stands there, when that needs saying (a rejection, a post read too late). */
  status_reason: string | null;
  /**
   * Why it earned no share points, when it did not: `already_scored` (this item on this
   * network) or `daily_cap`.
   */
  unscored: string | null;
  /**
   * When the post was found deleted (by the server, or by the person's device) and the
   * record withdrawn, its points with it.
   */
  withdrawn_at: string | null;
}

export type ShareStatus = "pending" | "confirmed" | "attested" | "declared" | "rejected";

/** A source as curators see it. */
export interface Source {
  /** What the curator gave, normalised. */
  address: string;
  auto_publish: boolean;
  channel_id: string;
  created_at: string;
  /** What the server fetches. */
  fetch_url: string;
  health: SourceHealth;
  id: string;
  interval_minutes: number;
  kind: SourceKind;
  paused: boolean;
}

/** How a source is doing. */
export interface SourceHealth {
  /** Entries gathered as drafts since the source was added. */
  entries: number;
  /** Failing without a success since then. */
  failing_since: string | null;
  /** Failing for a day or more: the console flags it. */
  flagged: boolean;
  last_error: string | null;
  last_fetch_at: string | null;
  last_new_entry_at: string | null;
  next_poll_at: string | null;
}

export type SourceKind = "feed" | "youtube" | "mastodon" | "bluesky" | "page";

/** Body of `PATCH /v1/sources/{id}`: only the fields present change. */
export interface SourceUpdate {
  auto_publish: boolean | null;
  channel_id: string | null;
  interval_minutes: number | null;
  paused: boolean | null;
}

/**
 * A share text the curators suggest for one network in one language. Employees start from it
 * and are encouraged to make it their own.
 */
export interface SuggestedText {
  language: string;
  network: Network;
  text: string;
}

/**
 * Answer of `GET /v1/sync?cursor=&limit=`.
 * 
 * Apply `changes` and store `cursor` in one transaction. When `reset` is true, first drop every
 * cached item (never the outbox): this page starts over from nothing. Ask again at once while
 * `has_more` is true.
 */
export interface SyncPage {
  changes: Change[];
  /** The organisation's full channel list, sent when it changed since the cursor. */
  channels?: Channel[];
  /** Opaque: pass it back unchanged. Never a timestamp. */
  cursor: string;
  has_more: boolean;
  /**
   * Feed entries still to come after this page, when more follow: an upper bound on the
   * changes to come (entries not meant for the caller are skipped), for a progress bar.
   */
  remaining?: number;
  reset: boolean;
}

/** Teams by country or department; teams of fewer than 5 people are not shown. */
export interface TeamBoard {
  by: TeamKind;
  month: string | null;
  teams: TeamEntry[];
}

/** One team of a team board: ranked by average points per active member. */
export interface TeamEntry {
  /** Members who scored at least once in the period. */
  active_members: number;
  average_points: number;
  rank: number;
  /** The country code or the department's name. */
  team: string;
  /** The caller's team. */
  yours: boolean;
}

export type TeamKind = "country" | "department";

/** One of the month's most shared contents. */
export interface TopItem {
  clicks: number | null;
  declared_shares: number | null;
  item_id: string;
  rank: number;
  title: string;
  url: string;
  /**
   * The counts, only when at least [`crate::MIN_GROUP`] people shared the item (an item
   * shared by fewer would describe them): otherwise none, the rank alone showing.
   */
  verified_shares: number | null;
}

/** The organisation's top ten contents of a month, by verified shares (clicks break ties). */
export interface TopTen {
  items: TopItem[];
  month: string;
}

/** A tracked link: `url` redirects to the item's address with UTM parameters. */
export interface TrackedLink {
  /** Unique visitors counted so far. */
  clicks: number;
  code: string;
  item_id: string;
  network: Network;
  /** Where the link leads. */
  target: string;
  url: string;
}
