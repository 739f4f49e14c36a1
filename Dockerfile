# mcp-switchboard in a container: the proxy and the plugins in ./plugins at build time, run by
# Node 24 runs the TypeScript core itself (type stripping; tsx for plugins), no build step, as the unprivileged `node` user.
#
#   docker build -t mcp-switchboard .
#   docker run -d --name switchboard -p 8490:8490 mcp-switchboard
#   docker run -d --name switchboard -p 8490:8490 -v ./my-plugins:/plugins:ro mcp-switchboard
#
# test/container/ builds and runs it with exactly the README's commands (npm run test:container).

# --- production dependencies, trimmed -------------------------------------------------------
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: nothing in the production tree needs an install script (esbuild finds its
# platform binary in @esbuild/<platform>). typescript is installed by --omit=dev only because it
# is an optional peer of cosmiconfig; the proxy loads .ts config files with tsx, so it goes
# (about 30 MB). Type declarations and source maps are not used at run time. npm's cache stays
# in this stage, which the image does not keep (only node_modules is copied out of it).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/typescript node_modules/@typescript node_modules/.bin/tsc \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' -o -name '*.map' \) -delete

# --- the image ------------------------------------------------------------------------------
FROM node:24-slim
# tini as PID 1: it passes signals to node and reaps orphaned processes. Command plugins start
# process trees (npx -> npm -> node); when the proxy ends one, the processes whose parent died
# are re-parented to PID 1, and node would leave them as zombies forever.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log /usr/bin/tini-static
# SWITCHBOARD_PLUGIN_DIRS: plugin folders mounted at run time (-v ./my-plugins:/plugins:ro),
#   served beside the baked-in /app/plugins.
# SWITCHBOARD_LOG_FORMAT: JSON lines on stdout, for `docker logs` and log shippers.
# TSX_DISABLE_CACHE: tsx compiles in memory and writes nothing (its cache would go to /tmp, and
#   a fresh container starts with an empty cache anyway), so `docker run --read-only` works.
# NODE_COMPILE_CACHE: where Node keeps the code it compiled (see the warm-up below).
# NODE_OPTIONS: Node 20's young generation (16 MiB semi-spaces). Node 24 sizes it from the memory
#   it sees (64 MiB semi-spaces with 4 GiB of heap), and the free pages V8 keeps pooled after a
#   busy spell stay resident: ~95 KiB of RSS per idle session instead of ~33. Setting NODE_OPTIONS
#   at `docker run` replaces this.
ENV NODE_ENV=production \
    SWITCHBOARD_PLUGIN_DIRS=/plugins \
    SWITCHBOARD_LOG_FORMAT=json \
    TSX_DISABLE_CACHE=1 \
    NODE_OPTIONS=--max-semi-space-size=16 \
    NODE_COMPILE_CACHE=/home/node/.cache/node-compile-cache
WORKDIR /app
# Everything owned by root and read-only to the proxy, which runs as `node`.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY core ./core
COPY plugins ./plugins
RUN mkdir /plugins && chown node:node /plugins
USER node
# The warm-up: one start and stop at build time, so the code Node compiled is in the image and
# every container starts without compiling the core and its dependencies again. Node keeps a
# cache per user, so it runs as `node`. With --read-only the cache is read, and not added to.
RUN node bin/switchboard.js serve --port 0 --host 127.0.0.1 > /tmp/warm-up.log 2>&1 & pid=$!; \
    i=0; until grep -q '"msg":"serving' /tmp/warm-up.log || [ $i -ge 600 ]; do i=$((i+1)); sleep 0.1; done; \
    kill -TERM $pid; wait $pid; status=$?; cat /tmp/warm-up.log; rm -f /tmp/warm-up.log; \
    ls -d /home/node/.cache/node-compile-cache/v* && exit $status
EXPOSE 8490
# No curl in a slim image: Node's fetch asks /healthz (which answers whatever the Host header).
# It follows PORT / SWITCHBOARD_PORT when those move the port inside the container. Every 10 s
# (a short-lived node process, ~50 ms of CPU); no --start-interval, which Podman's builder
# (buildah) refuses.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SWITCHBOARD_PORT||process.env.PORT||8490)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini starts node directly (not npm, which does not pass SIGTERM on): core/main.ts handles
# SIGTERM and SIGINT, closes the sessions and exits 0, so `docker stop` ends it at once.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "bin/switchboard.js", "serve"]
