# syntax=docker/dockerfile:1
# brokerage-recon production image: build with the dev toolchain, run on a slim Node LTS image
# with production dependencies only, as a non-root user.

ARG NODE_VERSION=26

FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
# --ignore-scripts: `prepare` compiles, which needs the sources copied below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY config ./config
COPY core ./core
COPY sources ./sources
COPY bench ./bench
COPY scripts ./scripts
COPY test ./test
RUN npx tsc -p tsconfig.json

FROM node:${NODE_VERSION}-slim AS runtime
ENV NODE_ENV=production
# Cap the V8 heap: uncapped, garbage grows it to about twice the live set (see README Performance).
ENV NODE_OPTIONS=--max-old-space-size=2048
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/core ./dist/core
COPY --from=build /app/dist/config ./dist/config
COPY --from=build /app/dist/sources ./dist/sources
COPY recon.config.yaml /config/recon.config.yaml
RUN ln -s /app/dist/core/cli.js /usr/local/bin/recon && chmod +x /app/dist/core/cli.js \
 && mkdir -p /data/incoming /data/staging && chown -R node:node /data
# The built-in `node` user (uid 1000), never root.
USER node
WORKDIR /data
# Mount your config at /config/recon.config.yaml; secrets come from the environment.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/core/cli.js"]
CMD ["daemon", "--config", "/config/recon.config.yaml"]
