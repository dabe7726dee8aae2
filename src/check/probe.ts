/**
 * One stream as a check sees it: the response (status, headers, the body of a refusal), then
 * every event and comment with the time it arrived, and how the response ended — cleanly
 * (the chunked terminator) or broken off. Unlike `runSseConnection` it never reconnects:
 * a check decides itself when to open again (resume, first event on reconnect).
 */
import type { Dispatcher } from 'undici';
import { createFrameParser } from '../stream/parse-frames.js';
import { normalizeType } from '../stream/normalize.js';
import type { TokenPlacement } from '../transport/auth.js';
import { discardBody, getFollowingRedirects } from '../transport/follow-redirects.js';
import { connectErrorFor, headerValue, isEventStreamType, lastEventIdHeaderValue, readSmallBody } from '../transport/open-stream.js';

/** An event, with the normalized type (CONTRACTS §2: `event:` or the JSON's `event`/`type`). */
export interface ProbeEvent {
  readonly type: string;
  /** The `event:` field as dispatched (`message` when absent). */
  readonly rawType: string;
  readonly data: string;
  /** The last event ID when the event was dispatched ('' when the stream has none). */
  readonly id: string;
  /** `performance.now()` when it was parsed. */
  readonly atMs: number;
}

/** A comment line, without the colon and one leading space (`:keepalive` → `keepalive`). */
export interface ProbeComment {
  readonly text: string;
  readonly atMs: number;
}

/** How a response ended: `clean` (terminator), `broken` (reset, socket closed mid-stream), `closed` (by the check). */
export interface ProbeEnd {
  readonly kind: 'clean' | 'broken' | 'closed';
  readonly atMs: number;
}

/** An opened (or refused) stream. */
export interface Probe {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** 200 with `text/event-stream`. */
  readonly isStream: boolean;
  /** The body of a response that is not a stream (a refusal), at most 64 KiB. */
  readonly body: string;
  readonly openedAtMs: number;
  readonly events: readonly ProbeEvent[];
  readonly comments: readonly ProbeComment[];
  /** The first `retry:` value, ms. */
  readonly retryMs: () => number | undefined;
  /** Set once the response has ended. */
  readonly ended: () => ProbeEnd | undefined;
  /** Resolves true as soon as `isDone()` holds (re-evaluated on every event, comment and the end), false after `timeoutMs` or on abort. */
  readonly waitFor: (isDone: () => boolean, timeoutMs: number) => Promise<boolean>;
  readonly close: () => void;
}

/** What to open. */
export interface ProbeRequest {
  readonly url: URL;
  readonly token?: TokenPlacement | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly lastEventId?: string | undefined;
  readonly dispatcher: Dispatcher;
  /** Aborting it closes the probe. */
  readonly signal: AbortSignal;
}

const MAX_EVENT_BYTES = 1024 * 1024;

/** Opens a probe; throws a `ConnectError` when the target cannot be reached. */
export async function openProbe(req: ProbeRequest): Promise<Probe> {
  const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache', ...req.headers };
  // As UTF-8 bytes, as bench and listen send it (undici refuses a non-Latin-1 header string).
  if (req.lastEventId !== undefined && req.lastEventId !== '') headers['last-event-id'] = lastEventIdHeaderValue(req.lastEventId);
  const controller = new AbortController();
  // Before the response: abort the request; after it: close the probe (an end of kind `closed`).
  let state: ProbeState | undefined;
  const onAbort = (): void => (state === undefined ? controller.abort() : state.finish('closed'));
  req.signal.addEventListener('abort', onAbort, { once: true });
  // A check cut off by its timeout may still call open(): nothing must be left open behind it.
  if (req.signal.aborted) controller.abort();
  let opened: Awaited<ReturnType<typeof getFollowingRedirects>>;
  try {
    opened = await getFollowingRedirects({ url: req.url, headers, token: req.token, dispatcher: req.dispatcher, signal: controller.signal });
  } catch (error) {
    req.signal.removeEventListener('abort', onAbort);
    throw connectErrorFor(error, req.url, req.token);
  }
  const { response } = opened;
  const isStream = response.statusCode === 200 && isEventStreamType(headerValue(response.headers['content-type']));
  state = createProbeState(response.body, () => {
    req.signal.removeEventListener('abort', onAbort);
    controller.abort();
  });
  const probe = probeOf(state, response, isStream);
  if (isStream) pumpEvents(response.body, state);
  else {
    // The probe offers no encoding: a refusal's body is read as sent, so its code/detail can be quoted.
    state.body = await readSmallBody(response.body, 'identity');
    state.finish('clean');
  }
  if (req.signal.aborted) state.finish('closed');
  return probe;
}

/** The probe's mutable state, shared by the pump and the waiters. */
interface ProbeState {
  readonly openedAtMs: number;
  readonly waiters: Set<() => void>;
  readonly events: ProbeEvent[];
  readonly comments: ProbeComment[];
  retryMs: number | undefined;
  end: ProbeEnd | undefined;
  body: string;
  readonly notify: () => void;
  readonly finish: (kind: ProbeEnd['kind']) => void;
}

function createProbeState(body: Dispatcher.ResponseData['body'], release: () => void): ProbeState {
  const state: ProbeState = {
    openedAtMs: performance.now(),
    waiters: new Set(),
    events: [],
    comments: [],
    retryMs: undefined,
    end: undefined,
    body: '',
    notify: () => {
      for (const waiter of [...state.waiters]) waiter();
    },
    finish: (kind) => {
      if (state.end !== undefined) return;
      state.end = { kind, atMs: performance.now() };
      release();
      discardBody(body);
      state.notify();
    },
  };
  return state;
}

/** The read-only view of a probe's state. */
function probeOf(state: ProbeState, response: Dispatcher.ResponseData, isStream: boolean): Probe {
  const waitFor = (isDone: () => boolean, timeoutMs: number): Promise<boolean> =>
    new Promise((resolve) => {
      const settle = (value: boolean): void => {
        clearTimeout(timer);
        state.waiters.delete(check);
        resolve(value);
      };
      // A probe the check closed (or whose check was aborted) will see nothing more.
      const check = (): void => {
        if (isDone()) settle(true);
        else if (state.end?.kind === 'closed') settle(false);
      };
      const timer = setTimeout(() => settle(isDone()), Math.max(0, timeoutMs));
      state.waiters.add(check);
      check();
    });
  return {
    status: response.statusCode,
    headers: response.headers,
    isStream,
    get body() {
      return state.body;
    },
    openedAtMs: state.openedAtMs,
    events: state.events,
    comments: state.comments,
    retryMs: () => state.retryMs,
    ended: () => state.end,
    waitFor,
    close: () => state.finish('closed'),
  };
}

/** Feeds the body to the WHATWG parser, recording every event and comment with its time. */
function pumpEvents(body: Dispatcher.ResponseData['body'], state: ProbeState): void {
  const parser = createFrameParser(
    {
      onEvent(rawType, data, id) {
        state.events.push({ type: normalizeType(rawType, data), rawType, data, id, atMs: performance.now() });
        state.notify();
      },
      onComment(text) {
        state.comments.push({ text, atMs: performance.now() });
        state.notify();
      },
      onRetry(ms) {
        state.retryMs ??= ms;
      },
    },
    { maxEventBytes: MAX_EVENT_BYTES },
  );
  body.on('data', (chunk: Buffer) => {
    try {
      parser.feed(chunk);
    } catch {
      // A line over the cap: the stream is unusable for a check; count it as broken.
      state.finish('broken');
    }
  });
  body.on('end', () => state.finish('clean'));
  body.on('error', () => state.finish('broken'));
}
