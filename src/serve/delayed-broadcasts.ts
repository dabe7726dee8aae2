/**
 * `--fault delay`: every broadcast is held `delayMs` on the hub's clock before it is written.
 * One queue and one timer for all events (not one timer per client); events keep their order
 * because they all wait the same time. The timer releases events on time with the real clock;
 * the hub's sweep also releases whatever is due, so a test that moves an injected clock sees
 * the event as soon as the clock says it is due.
 */
import type { HubStream } from './hub-stream.js';

type Release = (group: string, frame: Buffer, filter: ((stream: HubStream) => boolean) | undefined) => void;

interface HeldBroadcast {
  readonly dueAtMs: number;
  readonly group: string;
  readonly frame: Buffer;
  readonly filter: ((stream: HubStream) => boolean) | undefined;
}

/** The queue of held broadcasts. */
export class DelayedBroadcasts {
  private readonly delayMs: number;
  private readonly now: () => number;
  private readonly release: Release;
  private held: HeldBroadcast[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(delayMs: number, now: () => number, release: Release) {
    this.delayMs = delayMs;
    this.now = now;
    this.release = release;
  }

  /** Holds one broadcast until `now() + delayMs`. */
  add(group: string, frame: Buffer, filter: ((stream: HubStream) => boolean) | undefined): void {
    this.held.push({ dueAtMs: this.now() + this.delayMs, group, frame, filter });
    if (this.timer === undefined) this.arm(this.delayMs);
  }

  /** Writes every held broadcast that is due, oldest first. */
  releaseDue(): void {
    const nowMs = this.now();
    let count = 0;
    while (count < this.held.length && (this.held[count] as HeldBroadcast).dueAtMs <= nowMs) count += 1;
    if (count === 0) return;
    const due = this.held.slice(0, count);
    this.held = this.held.slice(count);
    for (const entry of due) this.release(entry.group, entry.frame, entry.filter);
  }

  /** Forgets every held broadcast (shutdown). */
  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.held = [];
  }

  private arm(waitMs: number): void {
    this.timer = setTimeout(() => this.onTimer(), waitMs);
  }

  private onTimer(): void {
    this.timer = undefined;
    this.releaseDue();
    const next = this.held[0];
    // Timers may fire a millisecond before the clock agrees; never spin on a zero wait.
    if (next !== undefined) this.arm(Math.max(1, next.dueAtMs - this.now()));
  }
}
