/**
 * `listen`'s human output: receive time, stream tag (several streams), the type in a stable
 * colour, id, data (JSON pretty-printed unless compact). Everything from the server is escaped
 * before it reaches the terminal. Status lines are formatted here too, for stderr.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { formatDuration } from '../core/duration.js';
import { escapeControl } from '../core/escape.js';
import { redactText } from '../core/redact.js';
import type { ListenEvent, ListenSink, ListenStream } from '../listen/run-listen.js';
import type { StreamStatus } from '../transport/sse-connection.js';

/** Options for the pretty sink. */
export interface PrettySinkOptions {
  readonly write: (text: string) => void;
  readonly writeStatus: (text: string) => void;
  readonly useColor: boolean;
  /** One line per event (no JSON indentation). */
  readonly isCompact: boolean;
  /** Show comments and heartbeat events, dimmed. */
  readonly showHeartbeats: boolean;
  /** Prefix lines with the stream tag. */
  readonly showTags: boolean;
}

const PALETTE = ['cyan', 'green', 'yellow', 'magenta', 'blue', 'cyanBright', 'greenBright', 'yellowBright', 'magentaBright', 'blueBright'] as const;

/** Creates the terminal sink. */
export function createPrettySink(options: PrettySinkOptions): ListenSink {
  const chalk = new Chalk({ level: options.useColor ? 1 : 0 });
  const typeColors = new Map<string, ChalkInstance>();
  const colorFor = (type: string): ChalkInstance => {
    let color = typeColors.get(type);
    if (color === undefined) {
      // Stable across runs: a hash of the name, not the order of appearance.
      let hash = 0;
      for (let i = 0; i < type.length; i++) hash = (hash * 31 + type.charCodeAt(i)) >>> 0;
      color = type === 'error' || type === 'warning' ? chalk.red : chalk[PALETTE[hash % PALETTE.length] as (typeof PALETTE)[number]];
      typeColors.set(type, color);
    }
    return color;
  };
  const tag = (stream: ListenStream): string => (options.showTags ? `${chalk.bold(`[${escapeControl(stream.tag, false)}]`)} ` : '');

  return {
    onEvent(event: ListenEvent) {
      const time = chalk.gray(formatClock(event.receivedAt));
      const typeText = escapeControl(event.type, false);
      const shownType = event.type === event.event ? typeText : `${typeText} ${chalk.gray(`(${escapeControl(event.event, false)})`)}`;
      const id = event.id === '' ? '' : ` ${chalk.gray(`#${escapeControl(event.id, false)}`)}`;
      const body = formatData(event, options.isCompact);
      const line = `${time} ${tag(event.stream)}${colorFor(event.type)(shownType)}${id} ${body}`;
      options.write(`${event.isHeartbeat ? chalk.dim(line) : line}\n`);
    },
    onComment(stream, text, receivedAt) {
      if (!options.showHeartbeats) return;
      options.write(`${chalk.dim(`${formatClock(receivedAt)} ${tag(stream)}: ${escapeControl(text, false)}`)}\n`);
    },
    onStatus(stream, status) {
      const color = status.kind === 'failed' || status.kind === 'stalled' ? chalk.red : chalk.gray;
      for (const line of statusLines(status, options.showTags)) options.writeStatus(`${tag(stream)}${color(line)}\n`);
    },
  };
}

/** A transition's status lines for stderr (none for quiet ones): the pretty sink's and the other sinks' alike. */
export function statusLines(status: StreamStatus, isMulti: boolean): string[] {
  return formatStatus(status, isMulti)?.split('\n') ?? [];
}

/**
 * The status line for a transition, or undefined for quiet ones. `isMulti`: several streams,
 * where a failure is shown here, once, as it happens (the CLI's last line then only counts them);
 * with one stream the CLI prints the failure itself. Server text in a detail is escaped.
 */
export function formatStatus(status: StreamStatus, isMulti: boolean): string | undefined {
  switch (status.kind) {
    case 'open':
      return `connected ${status.status} in ${formatDuration(status.headersMs)}`;
    case 'reconnecting':
      if (status.reason === 'restart') return `restarting: reconnecting now (attempt ${status.attempt})`;
      return `reconnecting in ${formatDuration(status.delayMs)} (attempt ${status.attempt}): ${safe(status.detail)}`;
    case 'stalled':
      return `stalled: no data for ${formatDuration(status.idleMs)}`;
    case 'closed':
      if (status.reason === 'no-content') return 'server answered 204 No Content: the stream is over';
      if (status.reason === 'ended') return 'the server closed the stream';
      return undefined;
    case 'failed':
      if (!isMulti) return undefined;
      return status.error.hint === undefined ? `failed: ${safe(status.error.message)}` : `failed: ${safe(status.error.message)}\nhint: ${safe(status.error.hint)}`;
    default:
      return undefined;
  }
}

/** Redacted and escaped, on one line. */
function safe(text: string): string {
  return escapeControl(redactText(text), false);
}

function formatData(event: ListenEvent, isCompact: boolean): string {
  if (event.json !== undefined && event.json.value !== null && typeof event.json.value === 'object') {
    return escapeControl(isCompact ? JSON.stringify(event.json.value) : JSON.stringify(event.json.value, null, 2));
  }
  return isCompact ? escapeControl(event.data, false) : escapeControl(event.data);
}

function formatClock(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
