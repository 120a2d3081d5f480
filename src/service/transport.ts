import type { KafkaSettings } from '../apps/app.ts'
import { type KafkaTransport, kafkaTransport } from '../connectors/kafka/index.ts'

/**
 * The Kafka transport for an app's settings, as `weir run` builds it: brokers, client id, SASL, TLS and
 * producer compression.
 *
 * @example
 * await startService(app, { transport: kafkaTransportFor })
 */
export function kafkaTransportFor(kafka: KafkaSettings): KafkaTransport {
  return kafkaTransport({
    brokers: [...kafka.brokers],
    clientId: kafka.clientId,
    sasl: kafka.sasl,
    tls: kafka.tls,
    ...(kafka.compression === undefined ? {} : { producer: { compression: kafka.compression } }),
  })
}
