/**
 * deploy/k8s/: every manifest validated against the Kubernetes schemas (kubernetes-models, no cluster),
 * the generator typechecked (its objects are typed with the models' interfaces, so a misspelt field is
 * a type error: the schemas alone accept unknown fields), the committed files equal to what
 * scripts/k8s-manifests.ts writes, and what an operator relies on checked across files.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import { Service } from 'kubernetes-models/v1/Service'
import { parseAllDocuments, parse as parseYaml } from 'yaml'
import { APPS, GRACE_SECONDS, K8S_DIR, type K8sApp, render } from '../../scripts/k8s-manifests.ts'
import { appNames } from '../../src/apps/index.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const run = promisify(execFile)
const models: Record<string, new (data: never) => { validate(): void }> = {
  ConfigMap,
  Deployment,
  Service,
  PodDisruptionBudget,
  HorizontalPodAutoscaler,
  Namespace,
}
type Manifest = { kind: string; metadata: { name: string }; [k: string]: unknown }

function documents(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(join(K8S_DIR, file), 'utf8')).map((d) => {
    assert.deepEqual(d.errors, [], `${file} parses`)
    return d.toJS() as Manifest
  })
}
const kustomization = parseYaml(readFileSync(join(K8S_DIR, 'kustomization.yaml'), 'utf8')) as {
  resources: string[]
  secretGenerator: Array<{ name: string; envs: string[] }>
}
const files = kustomization.resources
const byKind = (app: K8sApp, kind: string) =>
  documents(`${app.name}.yaml`).find((m) => m.kind === kind) as never

const tsc = async (file: string) =>
  run(
    join(ROOT, 'node_modules/.bin/tsc'),
    [
      '--ignoreConfig',
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2024',
      '--lib',
      'es2024',
      '--allowImportingTsExtensions',
      '--skipLibCheck',
      '--types',
      'node',
      file,
    ],
    { cwd: ROOT },
  )

describe('deploy/k8s', () => {
  test('every manifest of every file kustomize applies is valid against the Kubernetes schemas', () => {
    let count = 0
    for (const file of files) {
      for (const m of documents(file)) {
        const Model = models[m.kind]
        assert.ok(Model, `${file}: a kind the test knows (${m.kind})`)
        assert.doesNotThrow(() => new Model(m as never).validate(), `${file}: ${m.kind} ${m.metadata.name}`)
        count++
      }
    }
    assert.equal(count, 1 + 5 * APPS.length)
  })

  test('the schemas catch a wrong type, and the generator typecheck catches a misspelt field', async (t) => {
    const d = byKind(APPS[0]!, 'Deployment') as { spec: { replicas: unknown } }
    d.spec.replicas = 'two'
    assert.throws(() => new Deployment(d as never).validate(), /replicas must be integer/)
    await tsc('scripts/k8s-manifests.ts')
    // Inside the checkout, so that tsc resolves kubernetes-models from node_modules.
    const dir = mkdtempSync(join(ROOT, 'test/unit/.k8s-typo-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const typo = join(dir, 'typo.ts')
    writeFileSync(
      typo,
      `import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment'
export const d: IDeployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' },
  spec: { selector: {}, template: { spec: { terminationGracePeriodSecond: 45, containers: [] } } } }\n`,
    )
    await assert.rejects(tsc(typo), (err: { stdout: string }) =>
      /terminationGracePeriodSecond/.test(err.stdout),
    )
  })

  test('the committed files are what scripts/k8s-manifests.ts writes', () => {
    for (const app of APPS)
      assert.equal(
        readFileSync(join(K8S_DIR, `${app.name}.yaml`), 'utf8'),
        render(app),
        `${app.name}.yaml is stale: run node scripts/k8s-manifests.ts`,
      )
  })

  test('every bundled app has a manifest, and kustomize applies every app file', () => {
    const deployed = new Set(APPS.map((a) => a.args[1]))
    for (const name of appNames()) assert.ok(deployed.has(name), `deploy/k8s has ${name}`)
    for (const app of APPS)
      assert.ok(files.includes(`${app.name}.yaml`), `kustomization lists ${app.name}.yaml`)
  })

  test("seed 000's names: Deployment and Service stream-processor, ConfigMap stream-processor-config, port 8080", () => {
    const app = APPS.find((a) => a.name === 'stream-processor')!
    assert.deepEqual(app.args, ['run', 'rideshare'])
    assert.equal((byKind(app, 'ConfigMap') as Manifest).metadata.name, 'stream-processor-config')
    const svc = byKind(app, 'Service') as { spec: { ports: Array<{ port: number }> } }
    assert.equal(svc.spec.ports[0]!.port, 8080)
  })

  for (const app of APPS) {
    test(`${app.name}: probes, ports, grace period, resources, secrets and autoscaling fit together`, () => {
      const d = byKind(app, 'Deployment') as {
        spec: {
          template: {
            spec: {
              terminationGracePeriodSeconds: number
              containers: Array<Record<string, never>>
              volumes: Array<{ name: string; secret?: { secretName: string; items: Array<{ key: string }> } }>
            }
          }
        }
      }
      const pod = d.spec.template.spec
      const c = pod.containers[0] as unknown as {
        ports: Array<{ containerPort: number }>
        env: Array<{ name: string; value: string }>
        readinessProbe: { httpGet: { path: string; port: string } }
        livenessProbe: { httpGet: { path: string } }
        startupProbe: { httpGet: { path: string } }
        resources: { requests: { memory: string }; limits: { memory: string; cpu: string } }
        envFrom: Array<{ configMapRef: { name: string } }>
      }
      // Weir's own shutdown time is 30 s (drain, flush, commit); Kubernetes kills at the grace period.
      assert.ok(pod.terminationGracePeriodSeconds === GRACE_SECONDS && GRACE_SECONDS > 30)
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe])
        assert.equal(probe.httpGet.path, '/health')
      assert.equal(c.ports[0]!.containerPort, app.port)
      const portVar = Object.entries(app.config).find(([k]) => /^(HEALTH|API|WEB)_PORT$/.test(k))
      assert.equal(portVar?.[1], String(app.port), 'the app listens where the probes look')
      assert.equal(c.envFrom[0]!.configMapRef.name, app.configMap)
      const mebibytes = (q: string) =>
        q.endsWith('Gi') ? Number(q.slice(0, -2)) * 1024 : Number(q.slice(0, -2))
      assert.ok(mebibytes(c.resources.requests.memory) <= mebibytes(c.resources.limits.memory))
      assert.match(app.sizing, /measured|not measured yet/, 'the sizing says where the figures come from')

      // Secrets: files from weir-secrets, named by <VAR>_FILE; the key exists in the example env file.
      const keys = new Set(
        readFileSync(join(K8S_DIR, 'secrets.env.example'), 'utf8')
          .split('\n')
          .filter((l) => /^[a-z]/.test(l))
          .map((l) => l.split('=')[0]),
      )
      const secretVolume = pod.volumes.find((v) => v.secret)
      for (const [variable, key] of Object.entries(app.secrets)) {
        assert.ok(keys.has(key), `secrets.env.example has ${key}`)
        assert.ok(c.env.some((e) => e.name === `${variable}_FILE` && e.value.endsWith(`/${key}`)))
        assert.equal(secretVolume?.secret?.secretName, kustomization.secretGenerator[0]!.name)
        assert.ok(secretVolume?.secret?.items.some((i) => i.key === key))
      }
      for (const value of Object.values(app.config))
        assert.doesNotMatch(value, /change-me|password/i, 'no secret in a ConfigMap')

      const hpa = byKind(app, 'HorizontalPodAutoscaler') as {
        spec: { maxReplicas: number; metrics: Array<{ external: { metric: { name: string } } }> }
      }
      assert.equal(hpa.spec.metrics[0]!.external.metric.name, 'weir_consumer_lag')
      const partitions = app.config.INPUT_PARTITIONS ?? app.config.TOPIC_PARTITIONS
      if (partitions)
        assert.equal(hpa.spec.maxReplicas, Number(partitions), 'no more replicas than input partitions')
      const pdb = byKind(app, 'PodDisruptionBudget') as { spec: { maxUnavailable: number } }
      assert.equal(pdb.spec.maxUnavailable, 1)
    })
  }

  test('prometheus-adapter serves the metric the autoscalers ask for', () => {
    const values = parseYaml(
      readFileSync(join(K8S_DIR, 'monitoring/prometheus-adapter-values.yaml'), 'utf8'),
    ) as {
      rules: { external: Array<{ seriesQuery: string; name: { as: string }; metricsQuery: string }> }
    }
    const rule = values.rules.external.find((r) => r.name.as === 'weir_consumer_lag')
    assert.ok(rule)
    assert.match(rule.seriesQuery, /^weir_consumer_lag\{/)
    assert.match(rule.metricsQuery, /^sum\(/)
  })
})
