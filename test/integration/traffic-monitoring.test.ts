/**
 * Monitoring a user can deploy (seed 002 §2.5): the shipped alert rules pass `promtool test rules`;
 * both traffic apps' /metrics/prometheus pass `promtool check metrics`; a real Prometheus scrapes the
 * running apps, every Grafana panel's query returns data, and the lag alert goes to firing when the
 * archive stops being writable (input pauses while records keep arriving).
 */
import assert from 'node:assert/strict'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { trafficApp } from '../../src/apps/traffic/app.ts'
import { trafficWindowsApp } from '../../src/apps/traffic-windows/app.ts'
import type { RunningService } from '../../src/service/service.ts'
import { produceGenerated, startApp, trafficEnv, waitUntil } from './helpers/apps.ts'
import { tempDir } from './helpers/archive.ts'
import { createTopic, deleteTopics, testKafka } from './helpers/kafka.ts'
import { prometheusSkip, promtool, startPrometheus } from './helpers/prometheus.ts'
import { testCleanup } from './helpers/services.ts'

const kafka = testKafka()
const deploy = (path: string) => fileURLToPath(new URL(`../../deploy/${path}`, import.meta.url))
const skip = await prometheusSkip()

interface Dashboard {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>
}

function portOf(s: RunningService): number {
  return s.address!.port
}

describe('monitoring: alert rules, metrics and the dashboard against a real Prometheus', {
  skip,
  timeout: 180_000,
}, () => {
  it('the alert rules pass their promtool unit tests', async () => {
    const out = await promtool(['test', 'rules', deploy('prometheus/alerts.test.yml')])
    assert.match(out, /SUCCESS/)
  })

  it('scraped traffic apps pass promtool, answer every panel query, and fire the lag alert', async (t) => {
    const cleanup = testCleanup(t)
    const archive = await tempDir(cleanup)
    const env = trafficEnv('monitoring', {
      DQ_RULES: 'seed-002',
      ARCHIVE_DIR: archive,
      ARCHIVE_ROLL_INTERVAL: '200ms',
      METRICS_COMPAT: 'seed-002',
    })
    const windowsEnv = {
      ...trafficEnv('monitoring-windows'),
      INPUT_TOPIC: env.OUTPUT_TOPIC,
      WINDOW_SIZE: '1s',
      WINDOW_GRACE: '0',
      ARCHIVE_DIR: archive,
      ARCHIVE_ROLL_INTERVAL: '200ms',
      METRICS_COMPAT: 'seed-002',
    }
    cleanup(() =>
      deleteTopics([
        env.INPUT_TOPIC,
        env.OUTPUT_TOPIC,
        env.DLQ_TOPIC,
        windowsEnv.OUTPUT_TOPIC,
        windowsEnv.DLQ_TOPIC,
        `${env.GROUP_ID}-dq-duplicate-changelog`,
        `${windowsEnv.GROUP_ID}-traffic-5m-changelog`,
      ]),
    )
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 5 })
    const traffic = await startApp(trafficApp, env)
    cleanup(() => traffic.stop())
    const windows = await startApp(trafficWindowsApp, windowsEnv)
    cleanup(() => windows.stop())
    const generator = trafficApp.generator!({ seed: 9, invalidShare: 0.05 })
    await produceGenerated(kafka, generator, env.INPUT_TOPIC, 5000)
    await waitUntil('window results', async () => windows.running.task.metrics.produced.total() > 0, 30_000)

    for (const s of [traffic, windows]) {
      const text = await (await fetch(`http://127.0.0.1:${portOf(s)}/metrics/prometheus`)).text()
      await promtool(['check', 'metrics'], text)
      assert.match(text, /^stream_processor_messages_processed_total\{status="success",topic="[^"]+"\} \d+$/m)
    }

    const alerts = (await readFile(deploy('prometheus/alerts.yml'), 'utf8')).replace(/for: \d+m/g, 'for: 1s')
    const prom = await startPrometheus(
      cleanup,
      () => `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [alerts.yml]
scrape_configs:
  - job_name: weir-traffic
    metrics_path: /metrics/prometheus
    static_configs: [{ targets: ['127.0.0.1:${portOf(traffic)}'] }]
  - job_name: weir-traffic-windows
    metrics_path: /metrics/prometheus
    static_configs: [{ targets: ['127.0.0.1:${portOf(windows)}'] }]
`,
      { 'alerts.yml': alerts },
    )

    // Every panel's query returns data once a few scrapes are in (rates need two samples).
    const dashboard = JSON.parse(await readFile(deploy('grafana/weir.json'), 'utf8')) as Dashboard
    const exprs = dashboard.panels.flatMap((p) =>
      p.targets.map((target) => ({ panel: p.title, expr: target.expr.replaceAll('$job', '.*') })),
    )
    assert.ok(exprs.length >= 12)
    const empty = async () => {
      const out: string[] = []
      for (const { panel, expr } of exprs)
        if ((await prom.query(expr)).length === 0) out.push(`${panel}: ${expr}`)
      return out
    }
    let missing: string[] = []
    await waitUntil(
      'every panel has data',
      async () => (missing = await empty()).length === 0,
      30_000,
      1000,
    ).catch(() => {})
    assert.deepEqual(missing, [], `panels without data:\n${prom.output()}`)
    for (const name of [
      'stream_processor_consumer_lag',
      'stream_processor_throughput_rps',
      'stream_processor_latency_seconds_count',
      'stream_processor_errors_total',
    ]) {
      assert.ok((await prom.query(name)).length > 0, `${name} is scraped`)
    }

    // The archive directory becomes a file: publishing fails, the backlog fills, input pauses, lag grows.
    await rename(archive, `${archive}.away`)
    cleanup(async () => {
      await rm(archive, { force: true })
      await rename(`${archive}.away`, archive).catch(() => {})
    })
    await writeFile(archive, 'not a directory')
    // Well past what the app holds before its input pauses (up to 10,000 in flight + 10,000 waiting for
    // the sink, plus the fetch buffer): 30,000 left the lag near the alert's 10,000 and it fired in
    // some runs only.
    await produceGenerated(kafka, generator, env.INPUT_TOPIC, 60_000)
    await waitUntil(
      'WeirConsumerLagHigh firing for the traffic app',
      async () =>
        (await prom.alerts()).some(
          (a) =>
            a.labels.alertname === 'WeirConsumerLagHigh' &&
            a.labels.job === 'weir-traffic' &&
            a.state === 'firing',
        ),
      60_000,
      1000,
    )
    // The failing checkpoints alert too; the two rules are evaluated on their own schedules, so either
    // may fire first.
    const firing = async () =>
      (await prom.alerts()).filter((a) => a.state === 'firing').map((a) => a.labels.alertname)
    await waitUntil(
      'WeirCheckpointsFailing firing too',
      async () => (await firing()).includes('WeirCheckpointsFailing'),
      30_000,
      1000,
    )
    t.diagnostic(`firing: ${[...new Set(await firing())].join(', ')}`)
    const health = JSON.parse(String((await traffic.ops!.handle({ url: '/health' })).body))
    assert.equal(health.archive_connected, false)
  })
})
