/**
 * The validated form of a contract file (`contracts/*.yaml`): what `ssekit check` runs. Built
 * once by `contract.ts` (every problem reported at once) with the flags' overrides applied;
 * the check kinds only read it. Durations in ms.
 */
import type { AuthPlan } from '../transport/identity.js';
import type { CompiledSchema } from './schema.js';

/** Every check kind, in the order a contract usually lists them (`--only` takes check names). */
export const CHECK_KINDS = ['headers', 'auth', 'heartbeat', 'first-event', 'events', 'resume', 'stream-limit', 'latency', 'server-figures', 'graceful-end'] as const;
/** A check kind. */
export type CheckKind = (typeof CHECK_KINDS)[number];

/** Claims a contract gives a named identity (`identities: {admin: {role: admin}}`). */
export type IdentityClaims = Readonly<Record<string, unknown>>;

/** Fields every check has. */
export interface CheckBase {
  /** The key in `checks:` (what `--only` names and reports show). */
  readonly name: string;
  readonly kind: CheckKind;
  /** The CONTRACTS.md line the check encodes (`§1 Keepalive: comment line ...`). */
  readonly cites: string;
  /** Stream path (relative to the target) or absolute URL. */
  readonly stream: string;
  /** The identity streams are opened as. */
  readonly as: string;
}

/** A request that makes the backend emit an event: an HTTP call on the target, or a broker URL. */
export interface ProduceStep {
  /** `POST /orders` → method and path (relative to the target), or an http/redis/amqp URL. */
  readonly method: string;
  readonly url: string;
  /** Body template: `{{nonce}}` (the marker the delivery is found by), `{{seq}}`, `{{uuid}}`, `{{now}}`, `{{ts}}`, and `{{response.<path>}}` (the previous step's JSON answer). */
  readonly body?: string | undefined;
  /** Identity the producer call is made as (default: the check's). */
  readonly as: string;
  /** The event type this step should cause on the stream (normalized: `event:` or the JSON's `event`/`type`). */
  readonly expect?: string | undefined;
}

/** `headers`: response headers of an opened stream (and an optional first `retry:`). */
export interface HeadersCheck extends CheckBase {
  readonly kind: 'headers';
  /** Lower-case header name → expected value (`content-type` compares the media type only). */
  readonly expect: Readonly<Record<string, string>>;
  /** Expected `retry:` field, ms, if the contract names one. */
  readonly retryMs?: number | undefined;
}

/** One way of presenting credentials and the statuses it must get. */
export interface AuthCase {
  readonly token: 'none' | 'valid' | 'expired';
  readonly as: string;
  /** `query`: the token goes in the query parameter `param`. */
  readonly placement: 'header' | 'query';
  readonly param: string;
  /** Acceptable statuses (200 means: the stream opens as `text/event-stream`). */
  readonly expect: readonly number[];
}

/** `auth`: who may open the stream. */
export interface AuthCheck extends CheckBase {
  readonly kind: 'auth';
  readonly cases: readonly AuthCase[];
}

/** What a heartbeat looks like (CONTRACTS "What follows": comments, events with JSON, events with empty data). */
export type HeartbeatShape =
  | { readonly kind: 'comment'; readonly text: string }
  | { readonly kind: 'event'; readonly type: string; readonly data: 'empty' | 'json' | 'any'; readonly schema?: CompiledSchema | undefined };

/** `heartbeat`: shape and cadence. */
export interface HeartbeatCheck extends CheckBase {
  readonly kind: 'heartbeat';
  readonly shape: HeartbeatShape;
  readonly intervalMs: number;
  readonly toleranceMs: number;
  /** How long the stream is watched. */
  readonly observeMs: number;
}

/** `first-event`: the first dispatched event and its shape, optionally again on a reconnect. */
export interface FirstEventCheck extends CheckBase {
  readonly kind: 'first-event';
  readonly type: string;
  readonly schema?: CompiledSchema | undefined;
  readonly withinMs: number;
  readonly isCheckedOnReconnect: boolean;
}

/** `events`: payloads per type against JSON Schema, for events the steps cause. */
export interface EventsCheck extends CheckBase {
  readonly kind: 'events';
  readonly produce: readonly ProduceStep[];
  readonly schemas: Readonly<Record<string, CompiledSchema>>;
  readonly withinMs: number;
  /** Event types seen that have no schema: listed (`ignore`) or a failure (`fail`). */
  readonly unknownTypes: 'ignore' | 'fail';
}

/** `resume`: ids on every event, and Last-Event-ID replay of what was missed. */
export interface ResumeCheck extends CheckBase {
  readonly kind: 'resume';
  readonly produce: ProduceStep;
  /** Events produced while disconnected. */
  readonly missed: number;
  readonly withinMs: number;
}

/** `stream-limit`: N streams per user, and what the N+1-th gets. */
export interface StreamLimitCheck extends CheckBase {
  readonly kind: 'stream-limit';
  readonly max: number;
  readonly over: 'reject' | 'close-oldest';
  /** `reject`: the status and (optional) JSON `code` of the refusal. */
  readonly status: number;
  readonly code?: string | undefined;
  /** Streams are opened round-robin over these (default: the check's stream). */
  readonly paths: readonly string[];
  /** `close-oldest`: how soon the oldest must end. */
  readonly withinMs: number;
}

/** Which latency statistic is held against the target. */
export type LatencyGate = 'max' | 'p50' | 'p90' | 'p99';

/** `latency`: publish → delivery through the contract's producer. */
export interface LatencyCheck extends CheckBase {
  readonly kind: 'latency';
  readonly produce: ProduceStep;
  readonly count: number;
  readonly ratePerSecond: number;
  readonly targetMs: number;
  readonly gate: LatencyGate;
  /** An event not delivered this long after its producer call is lost. */
  readonly timeoutMs: number;
}

/** Where a server figure is read. */
export interface FigureSource {
  readonly url: string;
  /** Identity the read is made as (undefined: no credentials). */
  readonly as?: string | undefined;
  /** Metric names (Prometheus families) that must be present. */
  readonly names: readonly string[];
  /** JSON Schema the stats body must satisfy (JSON stats). */
  readonly schema?: CompiledSchema | undefined;
  /** Selector (Prometheus `name{labels}` or JSON path) that counts the open streams. */
  readonly count?: string | undefined;
}

/** `server-figures`: names and shape present, counts equal to the streams the check holds. */
export interface ServerFiguresCheck extends CheckBase {
  readonly kind: 'server-figures';
  readonly metrics?: FigureSource | undefined;
  readonly stats?: FigureSource | undefined;
  /** Streams held (one user each) while the counts are read. */
  readonly hold: number;
  /** How long a count may take to follow (up after opening, down after closing). */
  readonly settleMs: number;
}

/** What makes the server end a stream. */
export type EndTrigger =
  | { readonly kind: 'inactivity'; readonly afterMs: number }
  | { readonly kind: 'newer-stream' }
  | { readonly kind: 'identity'; readonly as: string }
  | { readonly kind: 'request'; readonly method: string; readonly url: string };

/** `graceful-end`: how the server ends a stream (a clean end, a last event, a 204 on reconnect). */
export interface GracefulEndCheck extends CheckBase {
  readonly kind: 'graceful-end';
  readonly trigger: EndTrigger;
  /** The last event before the end: its type, and JSON fields its data must contain. */
  readonly finalEvent?: { readonly type: string; readonly data?: Readonly<Record<string, unknown>> | undefined } | undefined;
  /** `clean`: the response must end with its terminator, not a reset. */
  readonly end: 'clean' | 'any';
  /** Status a reconnect with the same token must get after the end (WHATWG: 204 = stop reconnecting). */
  readonly reconnectStatus?: number | undefined;
  /** How long after the trigger (or after the inactivity period) the end may come. */
  readonly withinMs: number;
}

/** One check of any kind. */
export type CheckSpec = HeadersCheck | AuthCheck | HeartbeatCheck | FirstEventCheck | EventsCheck | ResumeCheck | StreamLimitCheck | LatencyCheck | ServerFiguresCheck | GracefulEndCheck;

/** A contract ready to run. */
export interface CheckPlan {
  readonly name: string;
  readonly description?: string | undefined;
  /** The file it came from (for reports). */
  readonly source: string;
  /** Base URL. */
  readonly target: string;
  /** The identity checks act as unless they say otherwise (a fixed `--token` stands for it). */
  readonly as: string;
  /** Named identities and their claims. */
  readonly identities: Readonly<Record<string, IdentityClaims>>;
  /** How tokens are made: minted (secret or key, claims merged from `--claims`) or one fixed token. */
  readonly auth?: AuthPlan | undefined;
  /** Extra request headers (`-H`). */
  readonly headers: Readonly<Record<string, string>>;
  readonly checks: readonly CheckSpec[];
  /** A check that would need longer than this is skipped (and says which flag shortens it). */
  readonly maxCheckMs: number;
  /** Connect and response-header timeout. */
  readonly connectTimeoutMs: number;
}

/** Values from flags that replace the contract's (undefined: keep the file's). Durations in ms. */
export interface CheckOverrides {
  readonly target?: string | undefined;
  readonly heartbeatIntervalMs?: number | undefined;
  readonly heartbeatToleranceMs?: number | undefined;
  readonly heartbeatObserveMs?: number | undefined;
  readonly latencyTargetMs?: number | undefined;
  readonly inactivityTimeoutMs?: number | undefined;
  /** `--only`: check names (or kinds) to run. */
  readonly only?: readonly string[] | undefined;
  readonly auth?: AuthPlan | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly maxCheckMs?: number | undefined;
  readonly connectTimeoutMs?: number | undefined;
}
