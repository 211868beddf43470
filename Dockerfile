# syntax=docker/dockerfile:1
# The Pathway service (API or worker, as PATHWAY_ROLE says). TypeScript runs through tsx:
# there is no build step. docker-compose.yml runs one container per role against Temporal.
FROM node:20-bookworm-slim

WORKDIR /app

# Dependencies first, so a source change does not reinstall them. tsx is a runtime dependency.
# Code and dependencies stay owned by root: the service user can read them, not change them.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .
# The data folder (PATHWAY_DATA_DIR, default .data) must be writable by the service user.
RUN mkdir -p .data && chown node:node .data

# The image's unprivileged user (uid 1000).
USER node

EXPOSE 3000

# Node runs the service itself, with tsx's loader: a signal reaches the service directly, which
# stops in order (tsx's own launcher kills a child that is slow to acknowledge a signal, cutting
# a busy worker's shutdown short). (`npm start` would also run prestart, which installs a
# Temporal dev server the containers do not use.)
CMD ["node", "--import", "tsx", "server/main.ts"]
