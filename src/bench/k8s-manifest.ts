/**
 * `bench --emit k8s`: one manifest that runs a plan as N shards on a Kubernetes cluster (k6
 * users run k6-operator; ssekit needs no operator): a ConfigMap holding the scenario, and an
 * Indexed Job whose pod i runs `ssekit bench --shard i+1/N` with the run's shared start and run
 * id, never retried (a retried shard would publish its events twice), spread over nodes.
 *
 * The start barrier is a start time fixed when the manifest is made: emit and apply in one pipe
 * (`ssekit bench … --emit k8s | kubectl apply -f -`), with a lead (`--start-in`, default 2 m)
 * that covers scheduling and the image pull. Every shard then starts the shared schedule at the
 * same instant by construction: no peer discovery, no coordinator, nothing that can disagree;
 * a pod that starts late keeps to the shared clock and its result says so. The cost is the
 * lead time, and a pull slower than it (the Job's deadline bounds the run either way).
 *
 * Secrets are never written into the manifest: the scenario names them by environment variable
 * (`jwtSecretEnv`, `tokenEnv`), and the pods read those from a Secret the user creates.
 */
import { stringify } from 'yaml';
import type { AuthPlan } from '../transport/identity.js';
import type { BenchPlan } from './scenario.js';

/** Options for `renderK8sManifest`. */
export interface K8sManifestOptions {
  readonly plan: BenchPlan;
  readonly shards: number;
  readonly image: string;
  readonly namespace: string;
  /** The Job's name (a DNS label). */
  readonly name: string;
  /** The shared schedule start, ms since epoch. */
  readonly startAtMs: number;
  readonly runId: string;
}

/** The manifest, and the keys the credentials Secret must hold (values are the user's). */
export interface K8sManifest {
  readonly yaml: string;
  readonly secretName: string;
  readonly secretKeys: readonly string[];
}

/** Memory per stream measured by `bench:perf` (RSS per held stream, with headroom), and a base per pod. */
const BYTES_PER_STREAM = 24 * 1024;
const BASE_MEMORY_MIB = 96;

/** Renders the ConfigMap and the Indexed Job. */
export function renderK8sManifest(options: K8sManifestOptions): K8sManifest {
  const secrets = new SecretNames(`${options.name}-credentials`);
  const scenario = planToScenario(options.plan, secrets);
  const labels = { 'app.kubernetes.io/name': 'ssekit', 'app.kubernetes.io/instance': options.name, 'ssekit/run-id': options.runId };
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${options.name}-scenario`, namespace: options.namespace, labels },
    data: { 'scenario.yaml': stringify(scenario, { lineWidth: 0 }) },
  };
  const job = jobOf(options, labels, secrets);
  const yaml = [`# ssekit bench, ${options.shards} shards, shared start ${new Date(options.startAtMs).toISOString()} (run ${options.runId})`, stringify(configMap, { lineWidth: 0 }), stringify(job, { lineWidth: 0 })].join('\n---\n');
  return { yaml, secretName: secrets.secretName, secretKeys: secrets.keys() };
}

function jobOf(options: K8sManifestOptions, labels: Record<string, string>, secrets: SecretNames): Record<string, unknown> {
  const { plan, shards } = options;
  const perShard = Math.ceil(plan.clients / shards);
  const requestMib = BASE_MEMORY_MIB + Math.ceil((perShard * BYTES_PER_STREAM) / 2 ** 20);
  const runSeconds = Math.ceil((Math.max(0, options.startAtMs - Date.now()) + plan.rampUpMs + plan.durationMs + (plan.publish?.timeoutMs ?? 0) + plan.leakGraceMs) / 1000) + 300;
  const command = `exec ssekit --no-color bench /etc/ssekit/scenario.yaml --shard "$((JOB_COMPLETION_INDEX + 1))/${shards}" --start-at "$SSEKIT_START_AT" --run-id "$SSEKIT_RUN_ID" --result-line`;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: options.name, namespace: options.namespace, labels },
    spec: {
      completionMode: 'Indexed',
      completions: shards,
      parallelism: shards,
      // A retried shard would publish its share of the events twice and merge as a duplicate.
      backoffLimit: 0,
      activeDeadlineSeconds: runSeconds,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          // One shard per node where possible: each brings its own source addresses and cores.
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/instance': options.name } } }],
          containers: [
            {
              name: 'ssekit',
              image: options.image,
              command: ['sh', '-c', command],
              env: [
                { name: 'SSEKIT_START_AT', value: new Date(options.startAtMs).toISOString() },
                { name: 'SSEKIT_RUN_ID', value: options.runId },
                ...secrets.keys().map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: secrets.secretName, key } } })),
              ],
              resources: { requests: { cpu: '500m', memory: `${requestMib}Mi` }, limits: { memory: `${requestMib * 2}Mi` } },
              volumeMounts: [{ name: 'scenario', mountPath: '/etc/ssekit', readOnly: true }],
            },
          ],
          volumes: [{ name: 'scenario', configMap: { name: `${options.name}-scenario` } }],
        },
      },
    },
  };
}

/** Secret values of the plan, each named by an environment variable of the pods. */
class SecretNames {
  readonly secretName: string;
  private readonly byValue = new Map<string, string>();
  constructor(secretName: string) {
    this.secretName = secretName;
  }
  /**
   * The variable name for a secret value: SSEKIT_SCENARIO_JWT_SECRET / SSEKIT_SCENARIO_TOKEN for
   * the first of each kind (not SSEKIT_JWT_SECRET: that one is the --jwt-secret flag's, and
   * would replace the scenario's auth, claims and all).
   */
  nameFor(value: string, kind: 'JWT_SECRET' | 'TOKEN'): string {
    const known = this.byValue.get(value);
    if (known !== undefined) return known;
    const prefix = `SSEKIT_SCENARIO_${kind}`;
    const taken = [...this.byValue.values()].filter((n) => n.startsWith(prefix)).length;
    const name = taken === 0 ? prefix : `${prefix}_${taken + 1}`;
    this.byValue.set(value, name);
    return name;
  }
  keys(): string[] {
    return [...this.byValue.values()];
  }
}

const ms = (value: number): string => `${Math.round(value)}ms`;

function authToScenario(auth: AuthPlan | undefined, secrets: SecretNames): Record<string, unknown> | undefined {
  if (auth === undefined) return undefined;
  return {
    ...(auth.token === undefined ? {} : { tokenEnv: secrets.nameFor(auth.token, 'TOKEN') }),
    ...(auth.jwtSecret === undefined ? {} : { jwtSecretEnv: secrets.nameFor(auth.jwtSecret, 'JWT_SECRET') }),
    ...(auth.claims === undefined ? {} : { claims: auth.claims }),
    ...(auth.ttlMs === undefined ? {} : { ttl: ms(auth.ttlMs) }),
    ...(auth.queryName === undefined ? {} : { query: auth.queryName }),
  };
}

/** A validated plan as a scenario file that validates to the same plan (secrets by name only). */
export function planToScenario(plan: BenchPlan, secrets: SecretNames = new SecretNames('unused')): Record<string, unknown> {
  const p = plan.publish;
  const stats = plan.serverStats;
  const defined = (object: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
  return defined({
    name: plan.name,
    description: plan.description,
    target: plan.target,
    streams: plan.streams.map((path, i) => {
      const request = plan.streamRequests?.[i];
      return request === undefined ? path : defined({ path, method: request.method, body: request.body, contentType: request.contentType });
    }),
    auth: authToScenario(plan.auth, secrets),
    clients: { count: plan.clients, rampUp: ms(plan.rampUpMs) },
    duration: ms(plan.durationMs),
    churn: plan.churnRate > 0 ? { rate: plan.churnRate, mode: plan.churnMode } : undefined,
    publish:
      p === undefined
        ? undefined
        : defined({ producer: p.producer, rate: p.rate, body: p.body, method: p.method, auth: authToScenario(p.auth, secrets), timeout: ms(p.timeoutMs), expectAt: p.expectAt, ignoreEventTypes: p.ignoreEventTypes }),
    heartbeat: plan.heartbeatTimeoutMs > 0 ? { timeout: ms(plan.heartbeatTimeoutMs) } : undefined,
    serverStats: stats === undefined ? undefined : defined({ url: stats.url, metric: stats.metric, format: stats.format, auth: authToScenario(stats.auth, secrets) }),
    thresholds: plan.thresholds,
    leak: { grace: ms(plan.leakGraceMs) },
    maxEventSize: plan.maxEventBytes,
    connectTimeout: ms(plan.connectTimeoutMs),
  });
}
