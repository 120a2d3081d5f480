export { TestDriver, TestInput, TestOutput, type DeadLetter, type PipeOptions, type TestDriverOptions } from './driver.ts'
export { VirtualClock } from '../core/clock.ts'
