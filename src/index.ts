/**
 * Weir: a stream processor for Apache Kafka. This is the curated public surface; connectors live in
 * subpath exports so their dependencies stay optional: `weir/kafka`, `weir/redis`, `weir/postgres`,
 * `weir/avro`, and `weir/testing` for the broker-free test driver.
 *
 * @example
 * import { pipeline, run, tumbling, aggregations, avg, count } from 'weir'
 * import { kafkaTransport } from 'weir/kafka'
 * import { createMetrics } from 'weir/ops'
 *
 * const p = pipeline('traffic-windows')
 * p.stream<Reading>('traffic-events')
 *   .groupBy((r) => r.sensor_id)
 *   .window(tumbling({ size: '5m', grace: '1m' }), { timestamp: (r) => Date.parse(r.timestamp) })
 *   .aggregate(aggregations({ avg_speed: avg((r) => r.speed), n: count() }), { name: 'traffic-5m', emit: 'final' })
 *   .to('traffic-aggregates')
 * const running = await run(p, { transport: kafkaTransport({ brokers: ['127.0.0.1:9092'] }), metrics: createMetrics() })
 */

// The DSL
export { Pipeline, pipeline, Stream, type MapAsyncOptions, type OperatorOptions, type StreamOptions, type ToSinkOptions, type ToTopicOptions } from './dsl/stream.ts'
export { GroupedStream, type DedupeOptions, type GroupAggregateOptions, type GroupOptions } from './dsl/grouped.ts'
export { WindowedStream, type WindowAggregateOptions, type WindowKey, type WindowResult } from './dsl/windowed.ts'
export { Table, type GlobalTable, type JoinOptions, type TableOptions } from './dsl/table.ts'
export type { StreamJoinOptions } from './dsl/stream-join.ts'
export { JoinedTable, type TableJoinOptions } from './dsl/joined-table.ts'
export type { QueryableStore, QueryPage, QueryResult, RangeQuery } from './state/query.ts'
export {
  aggregations,
  avg,
  count,
  first,
  latest,
  max,
  min,
  reducer,
  sample,
  stddev,
  sum,
  variance,
  type Aggregation,
} from './dsl/aggregations.ts'
export type { Invalid, ValidationResult, Validator, Violation } from './dsl/operators/validate.ts'
export type { RecordUpdate } from './dsl/operators/map.ts'
export { hopping, session, sliding, tumbling, type WindowSpec } from './time/windows.ts'

// Records, serdes, errors, time
export type { Headers, OutgoingRecord, RawRecord, RecordOrigin, TopicPartition, WeirRecord } from './core/record.ts'
export { headerText, textHeaders } from './core/record.ts'
export { bytes, json, serdes, string, type Serde, type SerdeContext } from './core/serde.ts'
export { ErrorCode, toWeirError, WeirError, type WeirErrorOptions } from './core/errors.ts'
export { systemClock, VirtualClock, type Clock } from './core/clock.ts'

// Running
export { run, type PipelineStatus, type RunningPipeline, type RunOptions } from './runtime/runner.ts'
export { errorPolicies, type ErrorAction, type ErrorContext, type ErrorPolicy, type RetryOptions } from './runtime/error-policy.ts'
export { DeadLetterHeader, readDeadLetter, type DeadLetterInfo } from './runtime/dead-letter.ts'
export type { Processor, ProcessorInit, RecordContext } from './runtime/processor.ts'
export type { Admin, ConnectorStatus, RecordSink, Sink, Source, Transport } from './connectors/contract.ts'
export { MemoryBroker, memoryTransport } from './connectors/memory/index.ts'
export { createLogger, type Logger, type LogLevel } from './log/logger.ts'

// Data-quality rules (declarative, configurable without code)
export { compileRules, parseRuleSet, ruleSetFromJson, rulesValidator, validateWith } from './rules/index.ts'
