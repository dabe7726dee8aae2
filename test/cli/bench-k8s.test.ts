/**
 * `bench --emit k8s` (issue 15): one manifest, a ConfigMap with the scenario and an Indexed Job of
 * N never-retried shards spread over nodes, valid against the Kubernetes API schema for several
 * N (kubernetes-models); no secret in it. Then the pod command of the Job, run as N local
 * processes (each with JOB_COMPLETION_INDEX, its own source address) against serve, merged from
 * their last log lines: the counts of one unsharded run, nothing lost.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigMap } from 'kubernetes-models/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { BIN, runCli } from '../helpers/run-cli.js';
import { startTestServer } from '../helpers/serve-process.js';

interface Manifest {
  readonly configMap: Record<string, any>;
  readonly job: Record<string, any>;
}

async function emit(args: readonly string[], env: Record<string, string> = {}): Promise<{ manifest: Manifest; stdout: string; stderr: string }> {
  const run = await runCli(['bench', ...args, '--emit', 'k8s'], { env });
  expect(run.exitCode, run.stderr).toBe(0);
  const docs = parseAllDocuments(run.stdout).map((d) => d.toJS() as Record<string, any>);
  return { manifest: { configMap: docs.find((d) => d['kind'] === 'ConfigMap') ?? {}, job: docs.find((d) => d['kind'] === 'Job') ?? {} }, stdout: run.stdout, stderr: run.stderr };
}

describe('bench --emit k8s', () => {
  it.each([1, 3, 8])('writes a ConfigMap and an Indexed Job of %i shards that the Kubernetes schema accepts', async (shards) => {
    const { manifest } = await emit(['scenarios/admin-orders.yaml', '--target', 'http://orders.prod.svc:8787', '--clients', '3000', '--shards', String(shards), '--namespace', 'load']);
    new ConfigMap(manifest.configMap as never).validate();
    new Job(manifest.job as never).validate();
    const spec = manifest.job['spec'];
    expect(spec).toMatchObject({ completionMode: 'Indexed', completions: shards, parallelism: shards, backoffLimit: 0 });
    expect(spec.template.spec.restartPolicy).toBe('Never');
    expect(spec.template.spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'kubernetes.io/hostname', maxSkew: 1 });
    const container = spec.template.spec.containers[0];
    expect(container.command.join(' ')).toContain(`--shard "$((JOB_COMPLETION_INDEX + 1))/${shards}"`);
    expect(container.command.join(' ')).toContain('--result-line');
    // Memory sized from the measured figure per held stream: more streams per pod, more memory.
    expect(Number.parseInt(container.resources.requests.memory, 10)).toBeGreaterThanOrEqual(96 + Math.floor((3000 / shards) * 24 / 1024));
    expect(manifest.configMap['metadata'].namespace).toBe('load');
  });

  it('keeps secrets out of the manifest: the scenario names them, the pods read them from a Secret', async () => {
    const secret = 'k8s-test-secret-value';
    const { manifest, stdout, stderr } = await emit(['http://orders.prod.svc:8787/api/admin/events', '--jwt-secret', secret, '--role', 'admin', '--shards', '2']);
    expect(stdout).not.toContain(secret);
    expect(stderr).not.toContain(secret);
    expect(manifest.configMap['data']['scenario.yaml']).toContain('jwtSecretEnv: SSEKIT_SCENARIO_JWT_SECRET');
    const env = manifest.job['spec'].template.spec.containers[0].env as { name: string; valueFrom?: { secretKeyRef: { key: string } } }[];
    expect(env.find((e) => e.name === 'SSEKIT_SCENARIO_JWT_SECRET')?.valueFrom?.secretKeyRef.key).toBe('SSEKIT_SCENARIO_JWT_SECRET');
    expect(stderr).toMatch(/kubectl -n default create secret generic \S+-credentials --from-literal=SSEKIT_SCENARIO_JWT_SECRET="\$SSEKIT_SCENARIO_JWT_SECRET"/);
  });

  it('refuses to emit the embedded default (the cluster cannot reach it)', async () => {
    const run = await runCli(['bench', '--emit', 'k8s']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/^ssekit: --emit k8s needs a target the cluster can reach/m);
  });

  it("runs the Job's pod command as N local processes and merges their log lines into the counts of one run", async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const dir = await mkdtemp(join(tmpdir(), 'ssekit-k8s-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const shards = 3;
    const { manifest } = await emit(['scenarios/admin-orders.yaml', '--target', server.url, '--clients', '9', '--ramp', '0s', '--duration', '3s', '--rate', '5', '--leak-grace', '1s', '--shards', String(shards), '--start-in', '8s']);
    // The pod's world: the scenario where the ConfigMap is mounted, `ssekit` on the PATH.
    await writeFile(join(dir, 'scenario.yaml'), manifest.configMap['data']['scenario.yaml'] as string);
    await writeFile(join(dir, 'ssekit'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    await chmod(join(dir, 'ssekit'), 0o755);
    const container = manifest.job['spec'].template.spec.containers[0];
    const env = Object.fromEntries((container.env as { name: string; value?: string }[]).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]));
    const command = (container.command[2] as string).replace('/etc/ssekit/scenario.yaml', join(dir, 'scenario.yaml'));
    const pods = Array.from({ length: shards }, (_, index) =>
      new Promise<string>((resolve) => {
        // Each "pod" its own source address, as pods on different nodes would have.
        const child = spawn('sh', ['-c', `${command} --local-address 127.0.0.${index + 2}`], { env: { ...process.env, ...env, JOB_COMPLETION_INDEX: String(index), PATH: `${dir}:${process.env['PATH'] ?? ''}`, NO_COLOR: '1', SSEKIT_MAX_SELF_LAG: '10s', SSEKIT_SCENARIO_JWT_SECRET: DEV_JWT_SECRET } });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => void (out += chunk.toString()));
        child.once('exit', () => resolve(out));
      }),
    );
    const logs = await Promise.all(pods);
    // `kubectl logs --tail=1`: each pod's last line.
    await writeFile(join(dir, 'pods.log'), logs.map((log) => log.trim().split('\n').at(-1)).join('\n'));
    const merged = await runCli(['stats', 'merge', join(dir, 'pods.log'), '-o', join(dir, 'merged.json')]);
    expect(merged.exitCode, merged.stderr).toBe(0);
    const result = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(join(dir, 'merged.json'), 'utf8'))) as BenchResult;
    expect(result.clients.planned).toBe(9);
    expect(result.events.published).toBe(15);
    expect(result.events.expectedDeliveries).toBe(15 * 9);
    expect(result.events.delivered).toBe(result.events.expectedDeliveries);
    expect(result.events.lost).toBe(0);
    expect(result.events.outOfOrder).toBe(0);
  });
});
