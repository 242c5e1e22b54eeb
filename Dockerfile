# syntax=docker/dockerfile:1
# Images for the API and the Temporal worker, built from one source tree:
#   docker build --target api -t cafe-flow-api .
#   docker build --target worker -t cafe-flow-worker .
# Debian (glibc) rather than Alpine: the Temporal core bridge ships glibc binaries.

FROM node:20-bookworm-slim AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false
# ca-certificates: the Temporal core bridge (Rust) verifies TLS against the system store.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# Compile TypeScript and prebuild the workflow bundle, so workers start without
# webpack and every replica runs byte-identical workflow code.
FROM base AS build
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build \
    && npm run build:workflows \
    && test -f dist/workflow-bundle.js \
    # tsc compiles only .ts: the staff board's static files go beside the compiled routes.
    && cp -r api/board/static dist/api/board/static

FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

FROM base AS runtime
ENV NODE_ENV=production
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./

FROM runtime AS api
USER node
EXPOSE 3000 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/api/main.js"]

FROM runtime AS worker
# pg_dump/pg_restore for the backup activity; 15 matches the postgres:15 server.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o node -g node -m 0750 /var/backups/cafe-flow
USER node
EXPOSE 9465 9466
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.WORKER_METRICS_PORT||9466)+'/metrics').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/workers/main.js"]
