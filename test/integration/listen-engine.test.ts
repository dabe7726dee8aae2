/**
 * `runListen` in process with a recording sink: several streams where one is refused (it ends
 * only itself, or all with isFailFast), limits counted after the filters, comments handed to the
 * sink in order, a restart of every stream with its own Last-Event-ID, the request body on every
 * stream, and the flow gate pausing all of them.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { runListen, type ListenEvent, type ListenOptions, type ListenSink, type ListenStream } from '../../src/listen/run-listen.js';
import { createStreamAgent } from '../../src/transport/agent.js';
import { createRestartTrigger } from '../../src/transport/restart-trigger.js';
import type { StreamStatus } from '../../src/transport/sse-connection.js';
import { jsonResponse, startSseServer, type SseServer } from '../helpers/sse-server.js';

interface Recorded {
  readonly items: ({ kind: 'event'; tag: string; data: string; id: string } | { kind: 'comment'; tag: string; text: string })[];
  readonly statuses: { tag: string; status: StreamStatus }[];
}

function recordingSink(onItem: (recorded: Recorded) => void = () => undefined): ListenSink & { recorded: Recorded } {
  const recorded: Recorded = { items: [], statuses: [] };
  return {
    recorded,
    onEvent(event: ListenEvent) {
      recorded.items.push({ kind: 'event', tag: event.stream.tag, data: event.data, id: event.id });
      onItem(recorded);
    },
    onComment(stream, text) {
      recorded.items.push({ kind: 'comment', tag: stream.tag, text });
      onItem(recorded);
    },
    onStatus(stream, status) {
      recorded.statuses.push({ tag: stream.tag, status });
    },
  };
}

const streamOf = (server: SseServer, tag: string): ListenStream => ({ url: new URL(`${server.origin}/${tag}`), display: tag, tag });

function options(streams: ListenStream[], extra: Partial<ListenOptions> = {}): ListenOptions {
  const dispatcher = createStreamAgent({ connectTimeoutMs: 5_000 });
  onTestFinished(() => dispatcher.destroy());
  return { streams, headers: {}, maxEventBytes: 1 << 20, reconnect: true, maxRetries: 2, retryInitialMs: 5, retryMaxMs: 20, eventGlobs: [], isHeartbeatHidden: false, dispatcher, random: () => 0.5, ...extra };
}

describe('runListen with several streams', () => {
  it('a refused stream ends only itself; the others go on and the errors are collected once each', async () => {
    const good = await startSseServer({ body: ['data: 1\n\n', { pauseMs: 200 }, 'data: 2\n\n'] });
    const refused = await startSseServer(jsonResponse(409, { code: 'stream_limit' }));
    const sink = recordingSink();
    const result = await runListen(options([streamOf(good, 'good'), streamOf(refused, 'refused')], { reconnect: false }), sink, new AbortController().signal);
    expect(result.endReason).toBe('streams-ended');
    expect(sink.recorded.items.map((i) => (i.kind === 'event' ? i.data : i.text))).toEqual(['1', '2']);
    expect(result.errors.map((e) => [e.stream.tag, e.error.exitCode])).toEqual([['refused', 4]]);
    expect(sink.recorded.statuses.filter((s) => s.status.kind === 'failed').map((s) => s.tag)).toEqual(['refused']);
  });

  it('with isFailFast, the first failure stops every stream', async () => {
    const held = await startSseServer({ body: 'data: 1\n\n', then: 'hold' });
    const refused = await startSseServer({ status: 403, headers: { 'content-type': 'text/plain' } });
    const result = await runListen(options([streamOf(held, 'held'), streamOf(refused, 'refused')], { isFailFast: true }), recordingSink(), new AbortController().signal);
    expect(result.endReason).toBe('stream-failed');
    expect(result.errors).toHaveLength(1);
    await held.waitForIdle(5_000);
  });

  it('a restart reconnects every stream at once, each with its own last event id and the request body', async () => {
    const spec = [{ body: 'id: a-1\ndata: first\n\n', then: 'hold' as const }, { body: 'data: again\n\n', then: 'hold' as const }];
    const [one, two] = [await startSseServer(spec), await startSseServer(spec)];
    const restart = createRestartTrigger();
    const controller = new AbortController();
    let isRestarted = false;
    const sink = recordingSink((r) => {
      const firsts = r.items.filter((i) => i.kind === 'event' && i.data === 'first').length;
      if (firsts === 2 && !isRestarted) {
        isRestarted = true;
        restart.restart();
      }
      if (r.items.filter((i) => i.kind === 'event' && i.data === 'again').length === 2) controller.abort();
    });
    await runListen(options([streamOf(one as SseServer, 'one'), streamOf(two as SseServer, 'two')], { restart, method: 'POST', body: '{"q":1}', contentType: 'application/json', retryInitialMs: 600_000 }), sink, controller.signal);
    for (const server of [one, two] as SseServer[]) {
      expect(server.requests.map((r) => [r.method, r.body, r.headers['last-event-id']])).toEqual([
        ['POST', '{"q":1}', undefined],
        ['POST', '{"q":1}', 'a-1'],
      ]);
    }
    const restarts = sink.recorded.statuses.filter((s) => s.status.kind === 'reconnecting' && s.status.reason === 'restart');
    expect(restarts.map((s) => s.tag).sort()).toEqual(['one', 'two']);
  });
});

describe('runListen filters, limits and comments', () => {
  const body = ': hello\n\nevent: ping\ndata: p\n\ndata: skip me\n\ndata: keep 1\n\n: between\n\ndata: keep 2\n\nevent: done\ndata: keep done\n\ndata: keep 3\n\n';

  it('counts --max-events and --until only over events that pass the filters', async () => {
    const server = await startSseServer({ body, then: 'hold' });
    const sink = recordingSink();
    const result = await runListen(options([streamOf(server, 's')], { grep: '^keep', untilType: 'done' }), sink, new AbortController().signal);
    expect(result.endReason).toBe('until');
    expect(sink.recorded.items.filter((i) => i.kind === 'event').map((i) => (i.kind === 'event' ? i.data : ''))).toEqual(['keep 1', 'keep 2', 'keep done']);
    const limited = recordingSink();
    const byCount = await runListen(options([streamOf(await startSseServer({ body, then: 'hold' }), 's')], { grep: '^keep', maxEvents: 2 }), limited, new AbortController().signal);
    expect([byCount.endReason, byCount.eventsShown]).toEqual(['max-events', 2]);
  });

  it('hands comments to the sink in order with the events, and hides heartbeats when asked (they still count for --until)', async () => {
    const server = await startSseServer({ body, then: 'hold' });
    const sink = recordingSink();
    const result = await runListen(options([streamOf(server, 's')], { isHeartbeatHidden: true, untilType: 'ping' }), sink, new AbortController().signal);
    expect(result.endReason).toBe('until');
    expect(sink.recorded.items.map((i) => (i.kind === 'event' ? i.data : `:${i.text}`))).toEqual([':hello']);
  });
});
