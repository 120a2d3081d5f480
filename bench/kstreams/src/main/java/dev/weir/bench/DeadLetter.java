package dev.weir.bench;

import java.time.Instant;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;

/**
 * An invalid reading as Weir dead-letters it (src/runtime/dead-letter.ts): the original value bytes,
 * headers with the error code, message, every violation, the stage, when, and the source
 * topic/partition/offset.
 */
final class DeadLetter implements FixedKeyProcessor<byte[], Traffic.Checked, byte[]> {
  private FixedKeyProcessorContext<byte[], byte[]> context;

  @Override
  public void init(FixedKeyProcessorContext<byte[], byte[]> context) {
    this.context = context;
  }

  @Override
  public void process(FixedKeyRecord<byte[], Traffic.Checked> record) {
    Traffic.Checked c = record.value();
    Headers h = record.headers();
    boolean json = c.flat() != null;
    add(h, "weir.error.code", json ? "VALIDATION_FAILED" : "DESERIALIZATION_FAILED");
    add(h, "weir.error.message", c.violations().get(0).get("message").asText());
    add(h, "weir.error.details", c.violations().toString());
    add(h, "weir.error.stage", json ? "validate" : "deserialize");
    add(h, "weir.error.retriable", "false");
    add(h, "weir.error.attempts", "1");
    add(h, "weir.error.time", Traffic.ISO_MILLIS.format(Instant.now()));
    context
        .recordMetadata()
        .ifPresent(
            m -> {
              add(h, "weir.source.topic", m.topic());
              add(h, "weir.source.partition", Integer.toString(m.partition()));
              add(h, "weir.source.offset", Long.toString(m.offset()));
            });
    add(h, "weir.source.timestamp", Long.toString(record.timestamp()));
    context.forward(record.withValue(c.raw()));
  }

  private static void add(Headers h, String name, String value) {
    h.add(name, Topologies.utf8(value));
  }
}
