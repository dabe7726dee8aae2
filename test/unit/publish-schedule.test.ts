/** The shared open-model schedule with a producer that records its bodies (no sockets). */
import { describe, expect, it } from 'vitest';
import { createMarkerCodec } from '../../src/metrics/correlate.js';
import { startPublishSchedule, type ScheduleTracker } from '../../src/producers/schedule.js';
import { compileTemplate } from '../../src/producers/template.js';
import type { Producer } from '../../src/producers/types.js';

function recordingTracker(): ScheduleTracker & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    onScheduled: (seq, _at, isOwn) => void calls.push(`scheduled ${seq}${isOwn ? '' : ' (foreign)'}`),
    hold: (seq) => void calls.push(`hold ${seq}`),
    release: (seq) => void calls.push(`release ${seq}`),
    onPublishFailed: (seq) => void calls.push(`failed ${seq}`),
  };
}

function producer(failOn: ReadonlySet<number> = new Set()): Producer & { bodies: string[] } {
  const bodies: string[] = [];
  return {
    kind: 'http',
    description: 'test',
    bodies,
    open: async () => undefined,
    close: async () => undefined,
    async publish(body) {
      bodies.push(body);
      const seq = Number(/"seq":(\d+)/.exec(body)?.[1]);
      if (failOn.has(seq)) throw new Error(`refused ${seq}`);
      return {};
    },
  };
}

const template = compileTemplate('{"seq":{{seq}},"m":"{{nonce}}"}');
const never = new AbortController().signal;

describe('publish schedule', () => {
  it('sends every event once, in order, each held while its call is in flight', async () => {
    const tracker = recordingTracker();
    const p = producer();
    const schedule = startPublishSchedule({ producer: p, template, marker: createMarkerCodec('run1'), tracker, startAt: performance.now(), ratePerSecond: 1000, count: 4 }, never);
    await schedule.settle(never);
    expect(schedule.sent).toBe(4);
    expect(schedule.failed).toBe(0);
    expect(p.bodies).toEqual([0, 1, 2, 3].map((seq) => `{"seq":${seq},"m":"ssk_run1_${seq}_"}`));
    for (let seq = 0; seq < 4; seq++) {
      expect(tracker.calls.indexOf(`scheduled ${seq}`)).toBeLessThan(tracker.calls.indexOf(`hold ${seq}`));
      expect(tracker.calls.indexOf(`hold ${seq}`)).toBeLessThan(tracker.calls.indexOf(`release ${seq}`));
    }
  });

  it('counts a failed call, tells the tracker before releasing it, and reports the message', async () => {
    const tracker = recordingTracker();
    const failures: string[] = [];
    const schedule = startPublishSchedule(
      { producer: producer(new Set([1])), template, marker: createMarkerCodec('run2'), tracker, startAt: performance.now(), ratePerSecond: 1000, count: 3, onFailed: (seq, message) => void failures.push(`${seq}: ${message}`) },
      never,
    );
    await schedule.settle(never);
    expect(schedule.failed).toBe(1);
    expect(failures).toEqual(['1: refused 1']);
    expect(tracker.calls.indexOf('failed 1')).toBeLessThan(tracker.calls.indexOf('release 1'));
  });

  it("sends only its shard's events but schedules the others' as expected", async () => {
    const tracker = recordingTracker();
    const p = producer();
    const schedule = startPublishSchedule({ producer: p, template, marker: createMarkerCodec('run3'), tracker, startAt: performance.now(), ratePerSecond: 1000, count: 6, isOwn: (seq) => seq % 3 === 1 }, never);
    await schedule.settle(never);
    expect(p.bodies.map((b) => Number(/"seq":(\d+)/.exec(b)?.[1]))).toEqual([1, 4]);
    expect(tracker.calls.filter((c) => c.startsWith('scheduled'))).toEqual(['scheduled 0 (foreign)', 'scheduled 1', 'scheduled 2 (foreign)', 'scheduled 3 (foreign)', 'scheduled 4', 'scheduled 5 (foreign)']);
  });

  it('treats a result the caller cannot use as a failure (publish: no id in the response)', async () => {
    const tracker = recordingTracker();
    const schedule = startPublishSchedule({ producer: producer(), template, marker: createMarkerCodec('run4'), tracker, startAt: performance.now(), ratePerSecond: 1000, count: 2, onPublished: (seq) => (seq === 0 ? 'no id' : undefined) }, never);
    await schedule.settle(never);
    expect(schedule.failed).toBe(1);
    expect(tracker.calls).toContain('failed 0');
    expect(tracker.calls).not.toContain('failed 1');
  });

  it('sends nothing more once stopped or aborted', async () => {
    const controller = new AbortController();
    const p = producer();
    const schedule = startPublishSchedule({ producer: p, template, marker: createMarkerCodec('run5'), tracker: recordingTracker(), startAt: performance.now(), ratePerSecond: 2, count: 100 }, controller.signal);
    controller.abort();
    await schedule.scheduled;
    expect(p.bodies.length).toBeLessThanOrEqual(1);
  });
});
