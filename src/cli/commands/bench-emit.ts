/**
 * `bench --emit k8s`: the manifest of a sharded run on Kubernetes, on stdout, and on stderr what
 * to do with it (the Secret to create, the pipe to apply it, how to collect and merge results).
 */
import { hashPlan, type BenchPlan } from '../../bench/scenario.js';
import { renderK8sManifest } from '../../bench/k8s-manifest.js';
import { parsePositiveDuration } from '../../core/duration.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import type { CliContext } from '../context.js';
import { parseCount } from '../flags/http.js';
import { VERSION } from '../version.js';
import type { BenchFlags } from './bench-action.js';

/** Writes the manifest; runs nothing. */
export function emitK8s(plan: BenchPlan, flags: BenchFlags, ctx: CliContext, context: { readonly isEmbedded: boolean }): number {
  if (context.isEmbedded) throw new UsageError('--emit k8s needs a target the cluster can reach: give a scenario with --target, or a stream URL');
  if (flags.workers !== undefined || flags.shard !== undefined) throw new UsageError('--emit k8s makes the shards itself (--shards): drop --workers and --shard');
  const shards = parseCount(flags.shards ?? '2', '--shards');
  const startAtMs = Date.now() + parsePositiveDuration(flags.startIn ?? '2m', '--start-in');
  const runId = flags.runId ?? hashPlan(plan).slice(0, 8);
  const name = jobName(plan.name, runId);
  const namespace = flags.namespace ?? 'default';
  const manifest = renderK8sManifest({ plan, shards, image: flags.image ?? `ssekit:${VERSION}`, namespace, name, startAtMs, runId });
  ctx.stdout.write(`${manifest.yaml}\n`);
  const lines = [
    `${shards} shards of ${plan.name}, shared start ${new Date(startAtMs).toISOString()}: apply it now, as part of the same pipe:`,
    `  ssekit bench … --emit k8s | kubectl apply -f -`,
  ];
  if (manifest.secretKeys.length > 0) {
    // The values stay where they are (the environment): never in the manifest, never printed.
    lines.push(`first, the pods' credentials (values from your environment):`, `  kubectl -n ${namespace} create secret generic ${manifest.secretName} ${manifest.secretKeys.map((k) => `--from-literal=${k}="$${k}"`).join(' ')}`);
  }
  lines.push('then collect every pod\'s result (its last line) and merge them:', `  kubectl -n ${namespace} logs -l app.kubernetes.io/instance=${name} --tail=1 --prefix=false > ${name}.log && ssekit stats merge ${name}.log`);
  ctx.stderr.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}

/** A DNS label (≤ 63 characters) for the Job: `ssekit-<scenario>-<run id>`. */
function jobName(scenario: string, runId: string): string {
  const base = `ssekit-${scenario}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  const id = runId.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8);
  return `${base.slice(0, 62 - id.length - 1).replace(/-$/, '')}-${id}`;
}
