/**
 * The IPC protocol between the `serve --workers` primary and its workers (node:cluster's channel,
 * JSON-serialised, in order per direction). Workers ask, the primary answers `res` with the same
 * `id`; the primary pushes bus deliveries, evictions, collect requests and shutdown.
 */

/** A worker's request; the primary answers each with one `res` of the same `id`. */
export type WorkerRequest =
  | { readonly op: 'publish'; readonly channel: string; readonly message: string }
  | { readonly op: 'next-id'; readonly counter: string }
  /** Subscribes the worker; the answer is the channel's history (`HistoryEntry[]`). */
  | { readonly op: 'subscribe'; readonly channel: string }
  | { readonly op: 'acquire'; readonly key: string; readonly max: number; readonly policy: 'reject' | 'close-oldest'; readonly holder: number }
  /** Every worker's answer to `collect` for `kind` (`PeerAnswer[]`). */
  | { readonly op: 'gather'; readonly kind: string };

/** One message a channel carried, with its sequence number on that channel (1, 2, 3, ...). */
export interface HistoryEntry {
  readonly seq: number;
  readonly message: string;
}

/** One worker's answer to a gather; `isMissing` when it did not answer in time. */
export type PeerAnswer = { readonly worker: number; readonly value: unknown; readonly isMissing?: false } | { readonly worker: number; readonly isMissing: true };

/** What a request failed with: an HTTP answer (e.g. 409 `stream_limit`) or a plain error. */
export interface RequestFailure {
  readonly status?: number;
  readonly code?: string;
  readonly message: string;
}

/** Worker → primary. */
export type WorkerMessage =
  | { readonly t: 'req'; readonly id: number; readonly req: WorkerRequest }
  | { readonly t: 'release'; readonly key: string; readonly holder: number }
  /** The answer to a `collect`. */
  | { readonly t: 'collected'; readonly id: number; readonly value: unknown }
  /** Listening; sent once, with what the primary's banner shows. */
  | { readonly t: 'ready'; readonly url: string; readonly pid: number; readonly summary: unknown };

/** Primary → worker. */
export type PrimaryMessage =
  | { readonly t: 'res'; readonly id: number; readonly value?: unknown; readonly error?: RequestFailure }
  /** A bus message for a channel the worker subscribed to; `origin` is the worker it was published on. */
  | { readonly t: 'bus'; readonly channel: string; readonly seq: number; readonly message: string; readonly origin: number }
  | { readonly t: 'evict'; readonly holder: number }
  | { readonly t: 'collect'; readonly id: number; readonly kind: string }
  | { readonly t: 'shutdown' };

/** A message channel to the other side (a worker's `process`, or the primary's `Worker`). */
export interface IpcPort {
  readonly send: (message: unknown) => void;
  readonly onMessage: (handler: (message: unknown) => void) => void;
}

/** The env variable that makes a forked `ssekit serve` a worker; its value is the worker's slot (1..N). */
export const WORKER_ENV = 'SSEKIT_SERVE_WORKER';
