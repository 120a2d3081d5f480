import type { KafkaSettings } from '../apps/app.ts'
import { type KafkaProducerTuning, type KafkaTransport, kafkaTransport } from '../connectors/kafka/index.ts'

/**
 * The Kafka transport for an app's settings, as `weir run` builds it: brokers, client id, SASL, TLS and
 * producer settings (an app's own tuning, e.g. MillionX's FAUST_PRODUCER_*, and the compression).
 *
 * @example
 * await startService(app, { transport: kafkaTransportFor })
 */
export function kafkaTransportFor(
  kafka: KafkaSettings & { readonly producer?: KafkaProducerTuning },
): KafkaTransport {
  // An app's own producer setting (its seed's variable, e.g. FAUST_PRODUCER_COMPRESSION) wins.
  const producer = {
    ...(kafka.compression === undefined ? {} : { compression: kafka.compression }),
    ...(kafka.compressionLevel === undefined ? {} : { compressionLevel: kafka.compressionLevel }),
    ...kafka.producer,
  }
  return kafkaTransport({
    brokers: [...kafka.brokers],
    clientId: kafka.clientId,
    sasl: kafka.sasl,
    tls: kafka.tls,
    ...(Object.keys(producer).length === 0 ? {} : { producer }),
  })
}
