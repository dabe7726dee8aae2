/**
 * A worker's side of the IPC protocol (`messages.ts`): requests with correlation ids, and
 * dispatch of what the primary pushes to the handlers the bus, the limiter and the peers set.
 */
import { HttpError } from '../http.js';
import type { IpcPort, PrimaryMessage, PeerAnswer, RequestFailure, WorkerRequest } from './messages.js';

/** Handlers for what the primary pushes; each is set by the piece that owns it. */
interface PushHandlers {
  bus?: (channel: string, seq: number, message: string, origin: number) => void;
  evict?: (holder: number) => void;
  collect?: (kind: string) => unknown;
  shutdown?: () => void;
}

/** The link to the primary. */
export class WorkerLink {
  readonly worker: number;
  readonly handlers: PushHandlers = {};
  private readonly port: IpcPort;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;

  constructor(port: IpcPort, worker: number) {
    this.port = port;
    this.worker = worker;
    port.onMessage((message) => this.onMessage(message as PrimaryMessage));
  }

  /** Sends a request; resolves with the answer, rejects with an HttpError when the primary says so. */
  request(req: WorkerRequest): Promise<unknown> {
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.port.send({ t: 'req', id, req });
    });
  }

  /** A message with no answer. */
  send(message: { t: 'release'; key: string; holder: number } | { t: 'ready'; url: string; pid: number; summary: unknown }): void {
    this.port.send(message);
  }

  /** Asks every worker for `kind` (this one included). */
  gather(kind: string): Promise<readonly PeerAnswer[]> {
    return this.request({ op: 'gather', kind }) as Promise<readonly PeerAnswer[]>;
  }

  private onMessage(message: PrimaryMessage): void {
    switch (message.t) {
      case 'res':
        this.settle(message.id, message.value, message.error);
        break;
      case 'bus':
        this.handlers.bus?.(message.channel, message.seq, message.message, message.origin);
        break;
      case 'evict':
        this.handlers.evict?.(message.holder);
        break;
      case 'collect':
        void this.answerCollect(message.id, message.kind);
        break;
      case 'shutdown':
        this.handlers.shutdown?.();
        break;
    }
  }

  private settle(id: number, value: unknown, error: RequestFailure | undefined): void {
    const waiter = this.waiting.get(id);
    if (waiter === undefined) return;
    this.waiting.delete(id);
    if (error === undefined) waiter.resolve(value);
    else waiter.reject(error.status === undefined ? new Error(error.message) : new HttpError(error.status, error.code ?? 'error', error.message));
  }

  private async answerCollect(id: number, kind: string): Promise<void> {
    let value: unknown;
    try {
      value = await this.handlers.collect?.(kind);
    } catch (error) {
      value = { error: error instanceof Error ? error.message : String(error) };
    }
    this.port.send({ t: 'collected', id, value });
  }
}
