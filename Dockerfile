# syntax=docker/dockerfile:1
# Production image for the necessity CDS Hooks service. Two stages: the build stage compiles TypeScript
# with dev dependencies; the runtime stage holds production dependencies, the compiled code and the data
# the service reads at start (policy/, hooks/, cards/), and runs as the unprivileged node user (uid 1000,
# which deploy/kubernetes/deployment.yaml names in runAsUser).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
LABEL org.opencontainers.image.title="necessity" \
      org.opencontainers.image.description="CDS Hooks service: lumbar spine MRI orders against a Medicare Advantage medical-necessity policy, with Da Vinci CRD coverage information" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="UNLICENSED"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY policy ./policy
COPY hooks ./hooks
COPY cards ./cards
COPY demo ./demo
# The reviewers' page (/review); its libraries (Chart.js, marked, DOMPurify) are production dependencies above.
COPY review ./review
# The record store needs nothing more at run time: its migrations are TypeScript compiled into dist/ (listed in
# src/store/migrations/index.ts), and the embedded PGlite's WebAssembly ships in its npm package (a production
# dependency). Without DATABASE_URL the store is that PGlite under NECESSITY_DATA_DIR (default ./data): give the
# node user a directory it may write, and mount a volume there (docker run -v necessity-data:/app/data) to keep it.
# Replicas share a PostgreSQL (DATABASE_URL) instead.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
# node directly (not npm) so SIGTERM reaches the service and it drains in-flight requests.
CMD ["node", "dist/src/server.js"]
