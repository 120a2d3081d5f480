/**
 * Writes deploy/k8s/*.yaml from one table of apps, typed with kubernetes-models' interfaces so that a
 * misspelt field fails the typecheck, and validated against the Kubernetes schemas when written (and by
 * test/unit/deploy-k8s.test.ts, which also fails when a committed file differs from this output).
 *
 *   node scripts/k8s-manifests.ts          # rewrite deploy/k8s/
 *   node scripts/k8s-manifests.ts --check  # exit 1 if a committed file is not what this writes
 *
 * Per app: a ConfigMap (seed 000's is `stream-processor-config`), a Deployment (probes on /health,
 * resources from the measured figures, a grace period above Weir's 30 s shutdown time, secrets as
 * `<VAR>_FILE` from the `weir-secrets` Secret), a Service, a PodDisruptionBudget and a
 * HorizontalPodAutoscaler on the consumer lag Prometheus reports through prometheus-adapter.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap'
import type { IService } from 'kubernetes-models/v1/Service'
import { stringify } from 'yaml'

export const K8S_DIR = fileURLToPath(new URL('../deploy/k8s/', import.meta.url))
/** Weir's shutdown time (src/runtime/runner.ts shutdownTimeoutMs) plus closing connections and the ops server. */
export const GRACE_SECONDS = 45
const IMAGE = 'weir:0.1.0'

export interface K8sApp {
  /** Deployment, Service and label `app` value. */
  readonly name: string
  /** `weir` arguments. */
  readonly args: readonly string[]
  readonly port: number
  readonly configMap: string
  readonly config: Readonly<Record<string, string>>
  /** Env var → key in the `weir-secrets` Secret; mounted as a file and passed as `<VAR>_FILE`. */
  readonly secrets: Readonly<Record<string, string>>
  readonly memory: { readonly request: string; readonly limit: string }
  readonly cpu: { readonly request: string; readonly limit: string }
  /** Where the figures come from: measured peak RSS and the seed's limit. */
  readonly sizing: string
  /** The most replicas that get work: the input topics' partitions. */
  readonly maxReplicas: number
  /** Consumer lag (records) per replica the HPA aims at. */
  readonly lagPerReplica: number
}

const MILLIONX_KAFKA = {
  KAFKA_BOOTSTRAP_SERVERS: 'kafka:9092',
  FAUST_PRODUCER_ACKS: '-1',
  FAUST_PRODUCER_COMPRESSION: 'gzip',
  LOG_LEVEL: 'INFO',
}
const SMALL = { memory: { request: '192Mi', limit: '256Mi' }, cpu: { request: '250m', limit: '1' } }

export const APPS: readonly K8sApp[] = [
  {
    name: 'stream-processor',
    args: ['run', 'rideshare'],
    port: 8080,
    configMap: 'stream-processor-config',
    config: {
      KAFKA_BOOTSTRAP_SERVERS: 'kafka:9092',
      KAFKA_GROUP_ID: 'stream-processor',
      KAFKA_AUTO_OFFSET_RESET: 'latest',
      KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: 'admin',
      REDIS_HOST: 'redis',
      REDIS_PORT: '6379',
      PROCESSOR_WINDOW_SIZE_MS: '100',
      PROCESSOR_AGGREGATION_STRATEGY: 'latest',
      PROCESSOR_TOPICS: 'gps_pings,trips,driver_status,surge_updates',
      API_HOST: '0.0.0.0',
      API_PORT: '8080',
      LOG_LEVEL: 'INFO',
    },
    secrets: { KAFKA_SASL_PASSWORD: 'kafka-sasl-password', REDIS_PASSWORD: 'redis-password' },
    ...SMALL,
    sizing:
      "seed 000's limit 256 MB; measured under it: peak RSS 169–180 MB (cgroup 113–125 MB) draining 600k records at 100k drivers (up to 83k records/s), 123 MB after 10 min at 1k records/s; 0.10–0.12 CPU cores per 10k records/s",
    // The seed's topics have 1 partition: one replica does all the work until they get more.
    maxReplicas: 1,
    lagPerReplica: 10_000,
  },
  {
    name: 'traffic',
    args: ['run', 'traffic'],
    port: 3001,
    configMap: 'traffic-config',
    config: {
      KAFKA_BROKERS: 'kafka:9092',
      GROUP_ID: 'stream-processor-group',
      CLIENT_ID: 'stream-processor-client',
      INPUT_TOPIC: 'traffic-raw',
      OUTPUT_TOPIC: 'traffic-events',
      DLQ_TOPIC: 'traffic-raw-dlq',
      INPUT_PARTITIONS: '5',
      HEALTH_PORT: '3001',
      VALUE_FORMAT: 'json',
      LOG_LEVEL: 'INFO',
    },
    secrets: {},
    ...SMALL,
    sizing:
      'no seed limit (seed 001 reports ~58 MB RSS); measured under 256 MB: peak RSS 180–196 MB (cgroup 128–143 MB) draining 300k records, 121 MB after 10 min at 1k records/s; 0.27–0.29 CPU cores per 10k records/s',
    maxReplicas: 5,
    lagPerReplica: 50_000,
  },
  {
    name: 'traffic-windows',
    args: ['run', 'traffic-windows'],
    port: 3002,
    configMap: 'traffic-windows-config',
    config: {
      KAFKA_BROKERS: 'kafka:9092',
      GROUP_ID: 'traffic-windows-group',
      CLIENT_ID: 'traffic-windows-client',
      INPUT_TOPIC: 'traffic-events',
      OUTPUT_TOPIC: 'traffic-aggregates',
      DLQ_TOPIC: 'traffic-aggregates-dlq',
      INPUT_PARTITIONS: '5',
      WINDOW_SIZE: '5m',
      WINDOW_GRACE: '1m',
      HEALTH_PORT: '3002',
      LOG_LEVEL: 'INFO',
    },
    secrets: {},
    ...SMALL,
    sizing:
      'no seed limit; measured under 256 MB: peak RSS 159–176 MB (cgroup 106–123 MB) draining 300k records, 117 MB after 10 min at 1k records/s; 0.10–0.11 CPU cores per 10k records/s',
    maxReplicas: 5,
    lagPerReplica: 50_000,
  },
  {
    name: 'streampulse',
    args: ['run', 'streampulse'],
    port: 9249,
    configMap: 'streampulse-config',
    config: {
      KAFKA_BOOTSTRAP_SERVERS: 'kafka:9092',
      KAFKA_TOPIC: 'content-downloads',
      PG_HOST: 'postgres',
      PG_PORT: '5432',
      PG_DATABASE: 'streampulse',
      PG_USER: 'streampulse',
      PG_SSLMODE: 'require',
      HEALTH_PORT: '9249',
      LOG_LEVEL: 'INFO',
    },
    secrets: { PG_PASSWORD: 'pg-password' },
    sizing:
      'seed 003 reports ~256 MB; measured under 256 MB: peak RSS 190–194 MB (cgroup 137–142 MB) draining 300k records, and at 1k records/s growing for 13 min (windows kept 5 minutes for late events, the last 10 windows the dashboard shows), then flat at 209–212 MB (peak 218 MB, cgroup 167 MB); 0.11–0.12 CPU cores per 10k records/s',
    memory: { request: '256Mi', limit: '320Mi' },
    cpu: { request: '250m', limit: '1' },
    maxReplicas: 3,
    lagPerReplica: 50_000,
  },
  {
    name: 'schema-validator',
    args: ['run', 'millionx', '--stage', 'schema-validator'],
    port: 6069,
    configMap: 'schema-validator-config',
    config: { ...MILLIONX_KAFKA, WEB_PORT: '6069' },
    secrets: {},
    ...SMALL,
    sizing:
      'no seed limit; measured under 256 MB: peak RSS 205–206 MB (cgroup 146–147 MB) draining 300k records, 137 MB after 10 min at 1k records/s; 0.39–0.46 CPU cores per 10k records/s',
    cpu: { request: '500m', limit: '1' },
    maxReplicas: 3,
    lagPerReplica: 50_000,
  },
  {
    name: 'privacy-shield',
    args: ['run', 'millionx', '--stage', 'privacy-shield'],
    port: 6066,
    configMap: 'privacy-shield-config',
    config: { ...MILLIONX_KAFKA, PII_HASH_LENGTH: '16', WEB_PORT: '6066' },
    secrets: { PRIVACY_SALT: 'privacy-salt' },
    sizing:
      'no seed limit; measured under 256 MB draining 285k gzip-compressed records with 1 MiB fetches: cgroup peak 193 MB, VmHWM 256 MB (with 8 MiB fetches it was OOM-killed); 166 MB after 10 min at 1k records/s; 0.5 CPU cores per 10k records/s',
    memory: { request: '192Mi', limit: '256Mi' },
    cpu: { request: '500m', limit: '1' },
    maxReplicas: 3,
    lagPerReplica: 20_000,
  },
  {
    name: 'context-enricher',
    args: ['run', 'millionx', '--stage', 'context-enricher'],
    port: 6067,
    configMap: 'context-enricher-config',
    config: {
      ...MILLIONX_KAFKA,
      REDIS_HOST: 'redis',
      REDIS_PORT: '6379',
      WEATHER_API_URL: 'https://api.openweathermap.org/data/2.5/weather',
      WEB_PORT: '6067',
    },
    secrets: { REDIS_PASSWORD: 'redis-password', WEATHER_API_KEY: 'weather-api-key' },
    sizing:
      'no seed limit; measured under 256 MB draining 285k gzip-compressed records with 1 MiB fetches: cgroup peak 197 MB, VmHWM 265 MB, no limit hit (with 8 MiB fetches: 39 limit hits, OOM-killed in another run); 171 MB after 10 min at 1k records/s; 0.56–0.72 CPU cores per 10k records/s',
    memory: { request: '192Mi', limit: '256Mi' },
    cpu: { request: '500m', limit: '1' },
    maxReplicas: 3,
    lagPerReplica: 20_000,
  },
  {
    name: 'embedding-service',
    args: ['run', 'millionx', '--stage', 'embedding-service'],
    port: 6068,
    configMap: 'embedding-service-config',
    config: {
      ...MILLIONX_KAFKA,
      EMBEDDING_MODEL: '/models/all-minilm-l6-v2-q',
      EMBEDDING_BATCH_SIZE: '100',
      EMBEDDING_MAX_LENGTH: '512',
      EMBEDDING_DEVICE: 'cpu',
      VECTOR_STORE: 'pgvector',
      WEB_PORT: '6068',
    },
    secrets: { PGVECTOR_URL: 'pgvector-url' },
    memory: { request: '512Mi', limit: '2Gi' },
    cpu: { request: '1', limit: '2' },
    sizing:
      "seed 004's limit 2 GB (raised to 4 GB when OOM-killed); measured: OOM-killed under 256 MB, peak RSS 381 MB (cgroup 302 MB) draining 2,833 records under 1024 MB at 75 records/s; about 2 CPU ms per record",
    maxReplicas: 3,
    lagPerReplica: 2_000,
  },
]

function labels(app: K8sApp): Record<string, string> {
  return { app: app.name, 'app.kubernetes.io/name': app.name, 'app.kubernetes.io/part-of': 'weir' }
}

function configMap(app: K8sApp): IConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: app.configMap, labels: labels(app) },
    data: { ...app.config },
  }
}

function deployment(app: K8sApp): IDeployment {
  const secretEnv = Object.keys(app.secrets).map((name) => ({
    name: `${name}_FILE`,
    value: `/run/secrets/weir/${app.secrets[name]}`,
  }))
  const probe = { httpGet: { path: '/health', port: 'ops' }, timeoutSeconds: 5 }
  const models = app.name === 'embedding-service'
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app.name, labels: labels(app), annotations: { 'weir.dev/sizing': app.sizing } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: app.name } },
      // One pod at a time: each rollout step is one consumer-group rebalance.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: labels(app),
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(app.port),
            'prometheus.io/path': '/metrics/prometheus',
          },
        },
        spec: {
          terminationGracePeriodSeconds: GRACE_SECONDS,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'weir',
              image: IMAGE,
              args: [...app.args],
              ports: [{ name: 'ops', containerPort: app.port }],
              envFrom: [{ configMapRef: { name: app.configMap } }],
              env: [{ name: 'NODE_ENV', value: 'production' }, ...secretEnv],
              resources: {
                requests: { memory: app.memory.request, cpu: app.cpu.request },
                limits: { memory: app.memory.limit, cpu: app.cpu.limit },
              },
              // Start-up includes restoring state from changelogs: up to 5 minutes before liveness counts.
              startupProbe: { ...probe, periodSeconds: 5, failureThreshold: 60 },
              // /health is 503 only when unhealthy; degraded (a sink down, input paused) stays ready
              // because the app recovers by itself and restarting it would only add a rebalance.
              readinessProbe: { ...probe, periodSeconds: 10, failureThreshold: 3 },
              livenessProbe: { ...probe, periodSeconds: 20, failureThreshold: 6 },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                ...(secretEnv.length
                  ? [{ name: 'secrets', mountPath: '/run/secrets/weir', readOnly: true }]
                  : []),
                ...(models ? [{ name: 'models', mountPath: '/models', readOnly: true }] : []),
              ],
            },
          ],
          volumes: [
            { name: 'tmp', emptyDir: {} },
            ...(secretEnv.length
              ? [
                  {
                    name: 'secrets',
                    secret: {
                      secretName: 'weir-secrets',
                      items: Object.values(app.secrets).map((key) => ({ key, path: key })),
                    },
                  },
                ]
              : []),
            // The ONNX model (scripts/models.sh): a volume the cluster provides (e.g. a PVC filled once).
            ...(models
              ? [{ name: 'models', persistentVolumeClaim: { claimName: 'weir-models', readOnly: true } }]
              : []),
          ],
        },
      },
    },
  }
}

function service(app: K8sApp): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: app.name, labels: labels(app) },
    spec: { selector: { app: app.name }, ports: [{ name: 'ops', port: app.port, targetPort: 'ops' }] },
  }
}

function podDisruptionBudget(app: K8sApp): IPodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: app.name, labels: labels(app) },
    // At most one pod evicted at a time (a drain still works with one replica: the pod moves, its
    // partitions pause for one rebalance and resume from the committed offsets).
    spec: { maxUnavailable: 1, selector: { matchLabels: { app: app.name } } },
  }
}

function autoscaler(app: K8sApp): IHorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: app.name, labels: labels(app) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: app.name },
      minReplicas: 1,
      // More replicas than input partitions would sit idle in the consumer group.
      maxReplicas: app.maxReplicas,
      metrics: [
        {
          type: 'External',
          external: {
            // Summed over the app's pods by prometheus-adapter (deploy/k8s/monitoring/prometheus-adapter.yaml).
            metric: { name: 'weir_consumer_lag', selector: { matchLabels: { app: app.name } } },
            target: { type: 'AverageValue', averageValue: String(app.lagPerReplica) },
          },
        },
      ],
      behavior: {
        // Every scale step is a rebalance: scale up at most one pod a minute, down after 10 quiet minutes.
        scaleUp: {
          stabilizationWindowSeconds: 60,
          policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
        },
        scaleDown: {
          stabilizationWindowSeconds: 600,
          policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }],
        },
      },
    },
  }
}

/** The manifests of one app, in apply order. */
export function manifests(
  app: K8sApp,
): [IConfigMap, IDeployment, IService, IPodDisruptionBudget, IHorizontalPodAutoscaler] {
  return [configMap(app), deployment(app), service(app), podDisruptionBudget(app), autoscaler(app)]
}

/** The text of deploy/k8s/<app>.yaml. */
export function render(app: K8sApp): string {
  const header = `# Generated by scripts/k8s-manifests.ts from its APPS table; edit there, then run it.\n# ${app.name}: weir ${app.args.join(' ')}. Sizing: ${app.sizing}.\n`
  return (
    header +
    manifests(app)
      .map((m) => stringify(m, { lineWidth: 0 }))
      .join('---\n')
  )
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check')
  let stale = 0
  for (const app of APPS) {
    const path = `${K8S_DIR}${app.name}.yaml`
    const text = render(app)
    if (check) {
      let current = ''
      try {
        current = readFileSync(path, 'utf8')
      } catch {}
      if (current !== text) {
        process.stderr.write(`${path} differs from scripts/k8s-manifests.ts\n`)
        stale++
      }
    } else writeFileSync(path, text)
  }
  process.exitCode = stale ? 1 : 0
}
