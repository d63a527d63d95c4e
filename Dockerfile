# syntax=docker/dockerfile:1
# brokerage-recon production image: compile the product only with the dev toolchain, run on a slim
# Node image (the minor of .nvmrc, pinned) with production dependencies only, as a non-root user.

ARG NODE_VERSION=26.10

FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.build.json ./
# No dependency of the product needs an install script (ssh2 and cpu-features are off in allowScripts:
# ssh2 uses its JavaScript crypto).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY config ./config
COPY core ./core
COPY sources ./sources
RUN npm run build

FROM node:${NODE_VERSION}-slim AS runtime
ENV NODE_ENV=production
# Cap the V8 heap: uncapped, garbage grows it to about twice the live set (see README Performance).
ENV NODE_OPTIONS=--max-old-space-size=2048
# Every recon command (daemon, run, healthcheck) reads this config unless --config says otherwise.
ENV RECON_CONFIG=/config/recon.config.yaml
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/core ./dist/core
COPY --from=build /app/dist/config ./dist/config
COPY --from=build /app/dist/sources ./dist/sources
COPY config/recon.config.schema.json ./config/recon.config.schema.json
COPY deploy/docker/recon.config.yaml /config/recon.config.yaml
RUN ln -s /app/dist/core/cli.js /usr/local/bin/recon && chmod +x /app/dist/core/cli.js \
 && mkdir -p /data/incoming /data/staging /data/reports && chown -R node:node /data
# The built-in `node` user (uid 1000), never root.
USER node
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9464
# Asks the daemon of the same config (health.enabled, health.port); exit 0 healthy, 1 not.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s \
  CMD ["node", "/app/dist/core/cli.js", "healthcheck", "--timeout", "5"]
ENTRYPOINT ["node", "/app/dist/core/cli.js"]
CMD ["daemon"]
