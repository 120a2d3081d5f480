# syntax=docker/dockerfile:1
# One image for every bundled Weir app: the command picks the app.
#
#   docker build -t weir .
#   docker run --rm -p 3001:3001 -e KAFKA_BROKERS=kafka:29092 weir run traffic
#
# Without a registry (as on a machine that cannot pull node:24), `bash scripts/image.sh` makes the base
# locally and builds this same file with buildah. The image holds Node 24, the compiled dist/, the
# production dependencies, tini and wget (for HEALTHCHECK); no compiler, no sources, no tests.
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim

# 1. Compile: all dependencies (TypeScript), then dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
# --ignore-scripts: the image's Node is the runtime (the `node` devDependency's installer is not needed)
# and onnxruntime-node's postinstall would download GPU libraries; its CPU binaries are in the package.
# Behind a TLS-intercepting proxy, pass its CA: --secret id=npm_ca,src=/path/to/ca.pem (optional).
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm_ca \
    if [ -f /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN ./node_modules/.bin/tsc -p tsconfig.build.json \
 && find dist -name '*.map' -delete \
 && mkdir -p schemas

# 2. Production dependencies only (a fresh install: `npm prune --omit=dev` left dev packages behind),
# without onnxruntime's binaries for other operating systems and CPU architectures.
FROM ${NODE_IMAGE} AS deps
WORKDIR /build
COPY package.json package-lock.json ./
# patches/: what `npm ci` applies in a checkout (scripts/patch-dependencies.mjs), here by patch-package
# itself, a devDependency, so fetched for this step only; it fails the build if a patch does not apply.
COPY patches ./patches
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm_ca \
    if [ -f /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && npx --yes patch-package@8.0.1 --error-on-fail \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin node_modules/onnxruntime-node/bin/napi-v*/win32 \
 && for d in node_modules/onnxruntime-node/bin/napi-v*/linux/*; do \
      [ "${d##*/}" = "$(node -p process.arch)" ] || rm -rf "$d"; \
    done

# 3. Runtime.
FROM ${NODE_IMAGE}
# tini is PID 1: it forwards SIGTERM to Weir (which drains, commits and exits 0) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini wget \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin weir
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /build/package.json ./package.json
COPY --from=deps /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
COPY --from=build /build/schemas ./schemas
COPY bin ./bin
COPY deploy/healthcheck.sh /usr/local/bin/weir-healthcheck
RUN ln -s /app/bin/weir.js /usr/local/bin/weir \
 && chmod 0755 /app/bin/weir.js /usr/local/bin/weir-healthcheck
# A numeric user, so Kubernetes' runAsNonRoot can check it.
USER 10001:10001
# traffic, traffic-windows, rideshare, millionx stages (privacy shield … schema validator).
EXPOSE 3001 3002 8080 6066 6067 6068 6069
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=40s --retries=3 CMD ["weir-healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--", "weir"]
CMD ["run", "traffic"]
