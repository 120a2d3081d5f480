package dev.weir.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** Peak resident memory, sampled every 100 ms from /proc/self/status as bench/child.ts samples Weir's. */
final class RssSampler {
  private volatile long peakKb;
  private volatile boolean running = true;

  static RssSampler start() {
    RssSampler s = new RssSampler();
    Thread t =
        new Thread(
            () -> {
              while (s.running) {
                long kb = statusKb("VmRSS");
                if (kb > s.peakKb) s.peakKb = kb;
                try {
                  Thread.sleep(100);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "rss-sampler");
    t.setDaemon(true);
    t.start();
    return s;
  }

  void stop() {
    running = false;
  }

  double peakMb() {
    return peakKb / 1024.0;
  }

  static double statusMb(String field) {
    return statusKb(field) / 1024.0;
  }

  static long statusKb(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    } catch (java.io.IOException ignored) {
      // not Linux: no figure
    }
    return 0;
  }
}
