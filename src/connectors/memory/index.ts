export { MemoryBroker } from './broker.ts'
export { memoryTransport } from './transport.ts'
