/**
 * Reads one open response body into a consumer: Content-Encoding undone incrementally, the
 * stall watchdog (any byte is life, STYLE "liveness"), and backpressure (a closed `FlowGate`
 * pauses the body, so the kernel's TCP window slows the server). Resolves once, with how the body
 * ended; never rejects.
 */
import type { Dispatcher } from 'undici';
import { ConnectError } from '../core/errors.js';
import { createBodyDecoder, type ContentCoding } from './body-decoder.js';
import type { FlowGate } from './flow-gate.js';
import { discardBody } from './follow-redirects.js';

/** How a body ended: its end (or the consumer asked to stop), or an error to classify. */
export type PumpOutcome = { readonly kind: 'ended' } | { readonly kind: 'error'; readonly error: unknown };

/** What `pumpBody` reads and whom it tells. */
export interface PumpOptions {
  readonly body: Dispatcher.ResponseData['body'];
  readonly coding: ContentCoding;
  /** Decompression bomb cap: decoded bytes one compressed chunk may give (see `createBodyDecoder`). */
  readonly maxDecodedBytesPerChunk: number;
  /** No byte for this long → a `StallError` outcome (default: no watchdog). */
  readonly heartbeatTimeoutMs?: number | undefined;
  readonly flow?: FlowGate | undefined;
  /** Aborting it ends the pump with `ended` (the caller knows why). */
  readonly signal: AbortSignal;
  /** Wire bytes as they arrive (before decoding); the first call is the first byte. */
  readonly onWireBytes: (byteCount: number) => void;
  /** Decoded bytes. Throw to end with that error; return true to end now (a fatal event was seen). */
  readonly onDecoded: (chunk: Buffer) => boolean;
  readonly onStalled: (idleMs: number) => void;
}

/** The watchdog saw no byte in time. */
class StallError extends ConnectError {
  constructor(idleMs: number) {
    super(`no data for ${Math.round(idleMs)} ms`, { code: 'SSEKIT_STALLED' });
  }
}

/** The pump's named state (one object per body, not per chunk). */
interface PumpState {
  isDone: boolean;
  lastByteAt: number;
  watchdog: NodeJS.Timeout | undefined;
  /** Paused because the consumer is backed up: not the server's silence. */
  isHeldByConsumer: boolean;
  cancelFlowWait: (() => void) | undefined;
}

/** Pumps `options.body` until it ends, errors, stalls, or the consumer or the signal stops it. */
export function pumpBody(options: PumpOptions): Promise<PumpOutcome> {
  return new Promise((resolve) => {
    const { body } = options;
    const state: PumpState = { isDone: false, lastByteAt: performance.now(), watchdog: undefined, isHeldByConsumer: false, cancelFlowWait: undefined };
    const finish = (outcome: PumpOutcome): void => {
      if (state.isDone) return;
      state.isDone = true;
      if (state.watchdog !== undefined) clearTimeout(state.watchdog);
      state.cancelFlowWait?.();
      options.signal.removeEventListener('abort', onAbort);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      decoder.destroy();
      discardBody(body);
      resolve(outcome);
    };
    const decoder = createBodyDecoder(options.coding, {
      maxBytes: options.maxDecodedBytesPerChunk,
      onData: (chunk) => deliver(chunk),
      onEnd: () => finish({ kind: 'ended' }),
      onError: (error) => finish({ kind: 'error', error }),
      onDrain: () => {
        if (!state.isHeldByConsumer) body.resume();
      },
    });
    const deliver = (chunk: Buffer): void => {
      if (state.isDone) return;
      let isFatal: boolean;
      try {
        isFatal = options.onDecoded(chunk);
      } catch (error) {
        finish({ kind: 'error', error });
        return;
      }
      if (isFatal) finish({ kind: 'ended' });
      else if (options.flow !== undefined && !options.flow.isOpen) holdForConsumer(options.flow);
    };
    const holdForConsumer = (flow: FlowGate): void => {
      if (state.isHeldByConsumer) return;
      state.isHeldByConsumer = true;
      body.pause();
      decoder.pause();
      state.cancelFlowWait = flow.onceOpen(() => {
        state.isHeldByConsumer = false;
        state.cancelFlowWait = undefined;
        // The server could not send while we did not read: the silence clock starts now.
        state.lastByteAt = performance.now();
        decoder.resume();
        body.resume();
      });
    };
    const onData = (chunk: Buffer): void => {
      state.lastByteAt = performance.now();
      options.onWireBytes(chunk.length);
      if (!decoder.write(chunk)) body.pause();
    };
    const onEnd = (): void => decoder.end();
    const onError = (error: Error): void => finish({ kind: 'error', error });
    const onAbort = (): void => finish({ kind: 'ended' });
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    options.signal.addEventListener('abort', onAbort, { once: true });
    if (options.heartbeatTimeoutMs !== undefined) armWatchdog(state, options.heartbeatTimeoutMs, options.heartbeatTimeoutMs, (idleMs) => {
      options.onStalled(idleMs);
      finish({ kind: 'error', error: new StallError(idleMs) });
    });
    if (options.signal.aborted) finish({ kind: 'ended' });
  });
}

/** One timer per stream, re-armed only when it fires (not on every chunk). */
function armWatchdog(state: PumpState, inMs: number, timeoutMs: number, onStall: (idleMs: number) => void): void {
  state.watchdog = setTimeout(() => {
    if (state.isDone) return;
    const idleMs = performance.now() - state.lastByteAt;
    if (state.isHeldByConsumer || idleMs < timeoutMs) armWatchdog(state, state.isHeldByConsumer ? timeoutMs : timeoutMs - idleMs, timeoutMs, onStall);
    else onStall(idleMs);
  }, inMs);
  state.watchdog.unref();
}
