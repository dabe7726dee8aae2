/**
 * The check kinds: each one's contract reader and runner, by kind. Adding a kind takes a file
 * beside this one, its spec in `plan.ts` and a line in each table below.
 */
import type { CheckKindRunner } from '../context.js';
import type { CheckKind, CheckSpec } from '../plan.js';
import type { CheckReader } from '../read-common.js';
import { authRunner, readAuthCheck } from './auth.js';
import { eventsRunner, readEventsCheck } from './events.js';
import { firstEventRunner, readFirstEventCheck } from './first-event.js';
import { gracefulEndRunner, readGracefulEndCheck } from './graceful-end.js';
import { headersRunner, readHeadersCheck } from './headers.js';
import { heartbeatRunner, readHeartbeatCheck } from './heartbeat.js';
import { latencyRunner, readLatencyCheck } from './latency.js';
import { readResumeCheck, resumeRunner } from './resume.js';
import { readServerFiguresCheck, serverFiguresRunner } from './server-figures.js';
import { readStreamLimitCheck, streamLimitRunner } from './stream-limit.js';

type SpecOf<K extends CheckKind> = Extract<CheckSpec, { kind: K }>;

/** Contract readers by kind. */
export const CHECK_READERS: { readonly [K in CheckKind]: CheckReader<SpecOf<K>> } = {
  headers: readHeadersCheck,
  auth: readAuthCheck,
  heartbeat: readHeartbeatCheck,
  'first-event': readFirstEventCheck,
  events: readEventsCheck,
  resume: readResumeCheck,
  'stream-limit': readStreamLimitCheck,
  latency: readLatencyCheck,
  'server-figures': readServerFiguresCheck,
  'graceful-end': readGracefulEndCheck,
};

/** Runners by kind. */
export const CHECK_RUNNERS: { readonly [K in CheckKind]: CheckKindRunner<SpecOf<K>> } = {
  headers: headersRunner,
  auth: authRunner,
  heartbeat: heartbeatRunner,
  'first-event': firstEventRunner,
  events: eventsRunner,
  resume: resumeRunner,
  'stream-limit': streamLimitRunner,
  latency: latencyRunner,
  'server-figures': serverFiguresRunner,
  'graceful-end': gracefulEndRunner,
};

/** The runner of a spec, typed for it. */
export function runnerFor(spec: CheckSpec): CheckKindRunner {
  return CHECK_RUNNERS[spec.kind] as unknown as CheckKindRunner;
}
