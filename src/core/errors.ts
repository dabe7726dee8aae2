/**
 * Typed errors. Engines throw these; only `cli/main.ts` turns them into a message and an exit
 * code. Messages are one line and must already be redacted by whoever builds them.
 */

/** Exit codes shared by every command (README "Exit codes"; the same 99 as k6 for gates). */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  unreachable: 3,
  refused: 4,
  protocol: 5,
  gateFailed: 99,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface SsekitErrorOptions {
  readonly hint?: string | undefined;
  readonly cause?: unknown;
}

/** Base class: a stable string `code`, the process exit code, an optional one-line hint. */
export class SsekitError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  constructor(code: string, exitCode: ExitCodeValue, message: string, options: SsekitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

/** A flag, URL, duration or config file is wrong (exit 2). */
export class UsageError extends SsekitError {
  constructor(message: string, options: SsekitErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'SSEKIT_USAGE', ExitCode.usage, message, options);
  }
}

/** The target could not be reached: DNS, refused, TLS, timeouts (exit 3). */
export class ConnectError extends SsekitError {
  constructor(message: string, options: SsekitErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'SSEKIT_CONNECT', ExitCode.unreachable, message, options);
  }
}

/** The server answered but refused the stream: 401/403/404/409, other 4xx, `event: error` (exit 4). */
export class HttpStatusError extends SsekitError {
  readonly status: number;
  /** The `code` field of a JSON error body (CONTRACTS §5: `{"code":"stream_limit"}`), if any. */
  readonly serverCode: string | undefined;
  /** The response's `Retry-After`, in ms, if any (a floor for the next reconnect). */
  readonly retryAfterMs: number | undefined;
  constructor(status: number, message: string, options: SsekitErrorOptions & { serverCode?: string | undefined; retryAfterMs?: number | undefined; code?: string } = {}) {
    super(options.code ?? 'SSEKIT_HTTP_STATUS', ExitCode.refused, message, options);
    this.status = status;
    this.serverCode = options.serverCode;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The server broke the protocol: not `text/event-stream`, a line or event over the cap (exit 5). */
export class ProtocolError extends SsekitError {
  constructor(code: string, message: string, options: SsekitErrorOptions = {}) {
    super(code, ExitCode.protocol, message, options);
  }
}

/** A producer (HTTP POST, Redis, AMQP) failed. Exit 3 when unreachable, else 4. */
export class ProducerError extends SsekitError {
  constructor(message: string, options: SsekitErrorOptions & { code?: string; isUnreachable?: boolean } = {}) {
    super(options.code ?? 'SSEKIT_PRODUCER', options.isUnreachable ? ExitCode.unreachable : ExitCode.refused, message, options);
  }
}

/** The user pressed Ctrl-C (exit 130); results gathered so far were written. */
export class InterruptedError extends SsekitError {
  constructor(message = 'interrupted', options: SsekitErrorOptions = {}) {
    super('SSEKIT_INTERRUPTED', ExitCode.interrupted, message, options);
  }
}

/** Whether an error is one of ours (anything else reaching the CLI is a bug). */
export function isSsekitError(error: unknown): error is SsekitError {
  return error instanceof SsekitError;
}
