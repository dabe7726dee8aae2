/** The bench process's own footprint: CPU, memory, and open sockets (so ssekit can prove it does not leak what it tests for). */
import { readdirSync, readlinkSync } from 'node:fs';
import type { BenchResult } from '../metrics/bench-result.js';
import type { SelfLag } from '../metrics/self-lag.js';

/** Open sockets of this process (Linux `/proc/self/fd`); null where that is not available. */
export function countOwnSockets(): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fd');
  } catch {
    return null;
  }
  let sockets = 0;
  for (const fd of entries) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) sockets += 1;
    } catch {
      // The fd closed while we looked.
    }
  }
  return sockets;
}

/** A reading at the start of a run, to measure the run's own use from. */
export interface SelfBaseline {
  readonly cpu: NodeJS.CpuUsage;
  readonly sockets: number | null;
}

/** Reads the baseline. */
export function readSelfBaseline(): SelfBaseline {
  return { cpu: process.cpuUsage(), sockets: countOwnSockets() };
}

/** What the process used since `baseline`, with its sockets now and its own lag over the run. */
export function measureSelf(baseline: SelfBaseline, lag: SelfLag): BenchResult['self'] {
  const cpu = process.cpuUsage(baseline.cpu);
  return {
    eventLoopDelay: lag.eventLoopDelay,
    cpuShare: lag.cpuShare,
    cpuUserMs: Math.round(cpu.user / 1000),
    cpuSystemMs: Math.round(cpu.system / 1000),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    heapUsedBytes: process.memoryUsage().heapUsed,
    socketsAtStart: baseline.sockets,
    socketsAtEnd: countOwnSockets(),
  };
}
