/** Dead-letter tools: inspect a dead-letter topic, and replay its original records after a fix. */
export { ReplayHeader, replayCount, replayHeaders } from './headers.ts'
export {
  type CountRow,
  type DeadLetterSample,
  formatInspectReport,
  type InspectOptions,
  type InspectReport,
  inspectDeadLetters,
} from './inspect.ts'
export { type OffsetReader, offsetReader, type PartitionOffsets } from './offsets.ts'
export { preview } from './preview.ts'
export {
  formatProgress,
  type ProgressReporter,
  type ProgressReporterOptions,
  progressReporter,
} from './progress.ts'
export {
  defaultReplayGroup,
  type ReplayOptions,
  type ReplayProgress,
  type ReplayResult,
  replayDeadLetters,
} from './replay.ts'
